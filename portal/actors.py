"""Who acts: passed explicitly into every service function, so permission checks and audit agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.accounts.models import ApiToken, User


@dataclass(frozen=True)
class Actor:
    kind: str  # user, client, system, anonymous
    user: User | None = None
    token: ApiToken | None = None
    on_behalf_of: str | None = None  # e.g. "organisation:12" when a member acts for a business
    label: str = ""
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def id(self) -> str | None:
        if self.user is not None:
            return str(self.user.id)
        if self.token is not None:
            return f"token:{self.token.id}"
        return None

    @property
    def organisation_id(self) -> int | None:
        if self.on_behalf_of and self.on_behalf_of.startswith("organisation:"):
            return int(self.on_behalf_of.split(":", 1)[1])
        return None

    def has_role(self, role: str, department_id: int | None = None) -> bool:
        return self.user is not None and self.user.has_role(role, department_id)

    @classmethod
    def for_user(cls, user: User, on_behalf_of: str | None = None) -> Actor:
        return cls("user", user=user, on_behalf_of=on_behalf_of, label=user.email)

    @classmethod
    def for_token(cls, token: ApiToken) -> Actor:
        return cls(
            "client" if token.user is None else "user",
            user=token.user,
            token=token,
            label=token.name,
            scopes=frozenset(token.scope_set),
        )


SYSTEM = Actor("system", label="system")
ANONYMOUS = Actor("anonymous", label="anonymous")


def current_actor() -> Actor:
    """The actor of the current request: a bearer token, a signed-in person, or nobody."""
    from flask import g
    from flask_login import current_user

    token = g.get("api_token")
    if token is not None:
        return Actor.for_token(token)
    if current_user.is_authenticated:
        from portal.accounts.services.organisations import acting_organisation_id

        organisation_id = acting_organisation_id()
        return Actor.for_user(
            current_user._get_current_object(),  # type: ignore[attr-defined]
            on_behalf_of=f"organisation:{organisation_id}" if organisation_id is not None else None,
        )
    return ANONYMOUS
