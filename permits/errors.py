"""What can go wrong with a permit application, in terms a form or an API client can show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PermitError(Exception):
    """Bad input or a rule that refuses it: shown next to `field` (web) or as a problem (API, `status`).

    `message` may be a lazy string; str() it where a plain string is needed.
    """

    field: str  # "use_type", "street", "area_m2", "end", "state", ...
    message: Any
    code: str = "invalid"  # unknown_use_type, unknown_street, end_before_start, transition_refused, ...
    status: int = 422

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class PermitInvalid(Exception):  # noqa: N818 - reads better at the call site
    """Several field errors at once (a whole form checked): field name → list of messages, and each one's code."""

    errors: dict[str, list[Any]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: Any, code: str = "invalid") -> None:
        self.errors.setdefault(name, []).append(message)
        self.codes.setdefault(name, code)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def as_text(self) -> dict[str, list[str]]:
        return {name: [str(message) for message in messages] for name, messages in self.errors.items()}

    def __str__(self) -> str:
        return "; ".join(f"{name}: {', '.join(messages)}" for name, messages in self.as_text().items())


class PermitNotFound(Exception):  # noqa: N818
    """Unknown case, or one the actor may not see; never says which."""
