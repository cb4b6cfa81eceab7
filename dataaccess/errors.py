"""What can go wrong with the catalogue, an agreement or an access, in terms a form or an API client can show."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DataAccessError(Exception):
    """Bad input or a rule that refuses it: shown next to `field` (web) or as a problem (API, `status`)."""

    field: str  # "key", "fields", "purposes", "valid_to", "agreement", ...
    message: str
    code: str = "invalid"
    status: int = 422

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


# The refusal codes of `dataaccess.services.access.read`, in the order the rules are checked, with the
# HTTP status the API answers them with.
REFUSAL_STATUS: dict[str, int] = {
    "agreement_required": 422,
    "no_agreement": 404,
    "not_approved": 403,
    "not_in_force": 403,
    "expired": 403,
    "revoked": 403,
    "superseded": 403,
    "wrong_department": 403,
    "invalid_subject": 422,
    "unknown_subject": 404,
    "purpose_required": 422,
    "purpose_not_allowed": 403,
    "fields_required": 422,
    "field_not_allowed": 403,
    "invalid_input": 422,
    "case_reference_required": 403,
    "citizen_request_missing": 403,
    "rate_limited": 429,
}


@dataclass
class AccessRefused(DataAccessError):  # noqa: N818 - reads better at the call site
    """An access refused by a rule. The refusal is already logged (access log row + audit event, outcome
    "denied") when this is raised: `log_id` and `audit_event` (the event's key) point at it.

    `fields` names the fields that were not allowed (field_not_allowed); `retry_after` is set with
    rate_limited (seconds until an access would be counted in a new hour window).
    """

    fields: list[str] = field(default_factory=list)
    log_id: int | None = None
    audit_event: str | None = None
    retry_after: int | None = None
