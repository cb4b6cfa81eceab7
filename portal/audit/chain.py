"""The hash chain: canonical JSON of an event, and the hash linking it to its predecessor."""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import datetime
from typing import Any

from portal.timeutil import as_utc

GENESIS_HASH = "0" * 64
SECRET_KEYS = {"password", "token", "secret", "code", "totp", "authorization", "recovery_code"}


# What json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str) builds per call,
# built once: every audited use case and every hash of the chain goes through it.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def mask_secrets(details: dict[str, Any]) -> dict[str, Any]:
    """Never let a secret into the trail, however a caller named it."""
    masked: dict[str, Any] = {}
    for key, value in details.items():
        if _is_secret_key(key):
            masked[key] = "***"
        elif isinstance(value, dict):
            masked[key] = mask_secrets(value)
        else:
            masked[key] = value
    return masked


@functools.lru_cache(maxsize=4096)
def _is_secret_key(key: str) -> bool:
    """Detail keys are mostly the same few names in every event: each is looked at once per process (bounded, in
    case some caller builds keys from data)."""
    lowered = key.lower()
    return any(s in lowered for s in SECRET_KEYS)


def format_time(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_payload(
    *,
    seq: int,
    occurred_at: datetime,
    actor_type: str,
    actor_id: str | None,
    on_behalf_of: str | None,
    action: str,
    target_type: str | None,
    target_id: str | None,
    subject_user_id: int | None,
    details: str,
    request_id: str | None,
    ip: str | None,
    outcome: str,
) -> str:
    return canonical_json(
        {
            "seq": seq,
            "occurred_at": format_time(occurred_at),
            "actor_type": actor_type,
            "actor_id": actor_id,
            "on_behalf_of": on_behalf_of,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "subject_user_id": subject_user_id,
            "details": details,
            "request_id": request_id,
            "ip": ip,
            "outcome": outcome,
        }
    )


def chain_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256((prev_hash + "\n" + payload).encode()).hexdigest()


def fields_of(event: Any) -> dict[str, Any]:
    """The hashed fields of a stored event as plain JSON values: canonical_json(fields_of(e)) is its payload.

    Handed to citizens and auditors in a proof download, so they can recompute the hash themselves.
    """
    return {
        "seq": event.seq,
        "occurred_at": format_time(event.occurred_at),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "on_behalf_of": event.on_behalf_of,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "subject_user_id": event.subject_user_id,
        "details": event.details,
        "request_id": event.request_id,
        "ip": event.ip,
        "outcome": event.outcome,
    }


def hash_of(event: Any) -> str:
    """Recompute an event's hash from its stored columns (used by the verifier)."""
    payload = event_payload(
        seq=event.seq,
        occurred_at=event.occurred_at,
        actor_type=event.actor_type,
        actor_id=event.actor_id,
        on_behalf_of=event.on_behalf_of,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        subject_user_id=event.subject_user_id,
        details=event.details,
        request_id=event.request_id,
        ip=event.ip,
        outcome=event.outcome,
    )
    return chain_hash(event.prev_hash, payload)
