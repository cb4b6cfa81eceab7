"""What can go wrong in a consultation, in terms a form or an API client can show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The HTTP status the API answers each rule's refusal with (participation.rules.refusal's codes).
REFUSAL_STATUS: dict[str, int] = {
    "not_published": 404,
    "closed": 409,
    "phase_closed": 409,
    "sign_in_required": 401,
    "guests_comment_only": 401,
    "verified_required": 403,
    "blocked": 403,
}


@dataclass
class ParticipationError(Exception):
    """Bad input or a rule that refuses it: shown next to `field` (web) or as a problem (API, `status`).

    `message` may be a lazy string; str() it where a plain string is needed.
    """

    field: str  # "title", "body", "pseudonym", "support", "phase", ...
    message: Any
    code: str = "invalid"  # too_long, required, name_taken, already_supported, depth_exceeded, ...
    status: int = 422

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class ActionRefused(ParticipationError):  # noqa: N818 - reads better at the call site
    """The rules (participation.rules.refusal) refuse the action now: its code and German message."""

    @classmethod
    def of(cls, refusal: Any, field: str = "action") -> ActionRefused:
        return cls(field, refusal.message, refusal.code, REFUSAL_STATUS.get(refusal.code, 409))
