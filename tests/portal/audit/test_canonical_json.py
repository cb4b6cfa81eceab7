"""The chain's canonical JSON and the masking of secrets: byte for byte what they were, since every stored hash was
taken over them (a faster way to the same bytes is fine, other bytes would break `flask audit verify`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.audit.chain import SECRET_KEYS, canonical_json, mask_secrets


def _reference_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _reference_mask(details: dict[str, Any]) -> dict[str, Any]:
    masked: dict[str, Any] = {}
    for key, value in details.items():
        if any(s in key.lower() for s in SECRET_KEYS):
            masked[key] = "***"
        elif isinstance(value, dict):
            masked[key] = _reference_mask(value)
        else:
            masked[key] = value
    return masked


text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20)
keys = text | st.sampled_from(["Password", "api_TOKEN", "purpose", "totp_code", "recovery", "fields", "Geheimnis"])
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text | st.datetimes(timezones=st.just(UTC))
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=20
)


@settings(max_examples=400, deadline=None)
@given(details=st.dictionaries(keys, values, max_size=8))
def test_masked_canonical_details_are_byte_for_byte_what_they_were(details):
    assert mask_secrets(details) == _reference_mask(details)
    assert canonical_json(mask_secrets(details)) == _reference_json(_reference_mask(details))


def test_a_secret_key_is_masked_however_often_it_is_seen():
    for _ in range(3):
        assert mask_secrets({"Access_Token": "t", "nested": {"PASSWORD": "p"}, "purpose": "x"}) == {
            "Access_Token": "***",
            "nested": {"PASSWORD": "***"},
            "purpose": "x",
        }
    assert (
        canonical_json({"b": datetime(2026, 1, 1, tzinfo=UTC), "a": "ä"}) == '{"a":"ä","b":"2026-01-01 00:00:00+00:00"}'
    )
