"""The public fee preview is rate-limited per client (PERMITS_PREVIEW_RATE_LIMIT), answered with problem JSON."""

from __future__ import annotations

import pytest

from tests.permits.test_api import EXAMPLE, URL


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PERMITS_PREVIEW_RATE_LIMIT": "2/minute"}


def test_the_third_preview_in_a_minute_is_refused(client, world):
    answers = [client.post(URL, json=EXAMPLE) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].mimetype == "application/problem+json"
    assert answers[2].headers.get("Retry-After")
