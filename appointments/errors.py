"""What can go wrong when booking, in terms a form or an API client can show next to a field."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class BookingError(Exception):
    """Bad input or a rule that refuses it: shown next to `field` (web) or as a 422 problem (API)."""

    field: str  # "services", "location", "start", "email", "name", "phone", "captcha", ...
    message: str
    code: str = "invalid"  # machine-readable: not_offered, past, outside_hours, holiday, too_many_open, ...

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class SlotTaken(Exception):  # noqa: N818 - reads better at the call site
    """The seat went to someone else a moment ago (409). `nearest` lists free start times close to it."""

    start: datetime
    nearest: list[datetime] = field(default_factory=list)


class NotFound(Exception):  # noqa: N818
    """Unknown reference, or a token that does not match it; never says which."""
