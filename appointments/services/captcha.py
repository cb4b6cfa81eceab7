"""ALTCHA proof-of-work: the browser spends a moment of CPU, no third party sees the visitor.

The challenge is signed with a key derived from SECRET_KEY, so any worker can verify it without shared
state. A solved challenge is accepted once: its signature is remembered in the rate limiter's storage (memory
in development, Redis in production, shared by the workers there) until the challenge would expire anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import altcha
from flask import current_app
from limits import RateLimitItemPerMinute

from portal.timeutil import utcnow

VALID_MINUTES = 10
# About 50,000 hashes on average: a second or two in a phone's browser, costly for a bot booking thousands.
MAX_NUMBER = 100_000


def _key() -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"stadtportal:altcha:v1", hashlib.sha256).hexdigest()


def create_challenge() -> dict[str, Any]:
    """A fresh challenge as the ALTCHA widget expects it (its `challengejson`, or the body of challengeurl)."""
    challenge = altcha.create_challenge_v1(
        altcha.ChallengeOptionsV1(
            hmac_key=_key(), max_number=MAX_NUMBER, expires=utcnow() + timedelta(minutes=VALID_MINUTES)
        )
    )
    return challenge.to_dict()


def _first_use(signature: str) -> bool:
    from portal.extensions import limiter

    try:
        return bool(limiter.limiter.hit(RateLimitItemPerMinute(1, VALID_MINUTES + 1), "altcha-used", signature))
    except Exception:  # the limiter's storage is down: proof of work still counts, replay guard does not
        current_app.logger.warning("altcha replay guard unavailable")
        return True


def verify(payload: str | None) -> bool:
    """Whether `payload` (the widget's base64 JSON) solves a challenge we issued, unexpired and unused."""
    if not payload or len(payload) > 4000:
        return False
    ok, _error = altcha.verify_solution_v1(payload, _key(), check_expires=True)
    if not ok:
        return False
    try:
        signature = str(json.loads(base64.b64decode(payload))["signature"])
    except (ValueError, KeyError, TypeError):
        return False
    return _first_use(signature)


def solve(challenge: dict[str, Any]) -> str:
    """The payload a browser would send for `challenge` (tests and the booking benchmark use it)."""
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxNumber"]
    )
    if solution is None:
        raise ValueError("challenge has no solution")
    payload = {
        "algorithm": challenge["algorithm"],
        "challenge": challenge["challenge"],
        "number": solution.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


def required_at(location_id: int) -> bool:
    """Whether the location asks for the proof-of-work captcha before booking."""
    from appointments.models import LocationSettings
    from portal.extensions import db

    settings = db.session.get(LocationSettings, location_id)
    return bool(settings is not None and settings.captcha_required)


def required_among(location_ids: Iterable[int]) -> set[int]:
    """Which of these locations ask for the captcha (it needs JavaScript: the pages say so early)."""
    from appointments.models import LocationSettings
    from portal.extensions import db

    ids = set(location_ids)
    if not ids:
        return set()
    query = db.select(LocationSettings.location_id).where(
        LocationSettings.location_id.in_(ids), LocationSettings.captcha_required.is_(True)
    )
    return set(db.session.scalars(query))
