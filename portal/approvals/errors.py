"""The approvals' one error: a rule refused the request or the decision."""

from __future__ import annotations

from typing import Any


class ApprovalError(Exception):
    """A rule refused the request or the decision. `field` names the form field, `code` the rule."""

    def __init__(self, message: Any, code: str, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field


# The refusals that mean "not you": the web answers them with 403.
FORBIDDEN_CODES = frozenset({"own_request", "not_allowed", "not_requester"})
