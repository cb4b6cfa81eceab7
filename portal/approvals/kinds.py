"""The approval kinds: what a service lets a second person decide, registered once per app.

A service registers its kind from its register(app) (see portal.approvals.services for the whole flow); the
registry lives in `app.extensions`, so every app built (tests build many) has its own. The names are
importable from portal.approvals.services.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from portal import declarations
from portal.actors import Actor
from portal.approvals.models import ApprovalRequest

KIND_NAME_RE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
_REGISTRY_KEY = "stadtportal_approval_kinds"


@dataclass(frozen=True)
class ApprovalKind:
    """What a service lets a second person decide.

    name            "<service>.<thing>", e.g. "payments.refund"
    label           how people call it ("Erstattung"), lazy_gettext
    decider_roles   any of these roles may decide (never the requester)
    on_approved     (actor, request) -> None: carries the request out, in the decision's transaction
    on_rejected     optional, same shape, e.g. to reopen the case
    on_withdrawn    optional, same shape, when the requester takes the request back (or `close_request` closes it)
    describe        (request) -> str: the summary the decider reads; stored with the request
    department_scoped  requests name a department, and a department role counts only there
    citizen_visible the events carry request.subject_user_id, so the citizen sees them in their Protokoll
    """

    name: str
    label: Any
    decider_roles: tuple[str, ...]
    on_approved: Callable[[Actor, ApprovalRequest], None]
    on_rejected: Callable[[Actor, ApprovalRequest], None] | None = None
    on_withdrawn: Callable[[Actor, ApprovalRequest], None] | None = None
    describe: Callable[[ApprovalRequest], str] | None = None
    department_scoped: bool = False
    citizen_visible: bool = False


def register_kind(app: Flask, kind: ApprovalKind) -> ApprovalKind:
    """Make a kind known (call from the service's register(app)); a name used twice stops the start-up."""
    if not KIND_NAME_RE.fullmatch(kind.name) or len(kind.name) > 64:
        raise ValueError(f"approval kind {kind.name!r} must look like 'service.thing' (lowercase)")
    if not kind.decider_roles:
        raise ValueError(f"approval kind {kind.name!r} names no role that may decide")
    unknown = sorted(set(kind.decider_roles) - declarations.roles(app).keys())
    if unknown:
        raise ValueError(f"approval kind {kind.name!r} names undeclared roles {', '.join(unknown)}; declare them first")
    registry: dict[str, ApprovalKind] = app.extensions.setdefault(_REGISTRY_KEY, {})
    if kind.name in registry and registry[kind.name] is not kind:
        raise ValueError(f"approval kind {kind.name!r} is registered twice")
    registry[kind.name] = kind
    return kind


def registered_kinds(app: Flask | None = None) -> dict[str, ApprovalKind]:
    return dict((app or current_app).extensions.get(_REGISTRY_KEY, {}))


def get_kind(name: str) -> ApprovalKind | None:
    return current_app.extensions.get(_REGISTRY_KEY, {}).get(name)


def citizen_of(kind: ApprovalKind | None, request: ApprovalRequest) -> int | None:
    """The person whose Protokoll shows the request's events: its subject, when the kind is citizen-visible."""
    return request.subject_user_id if kind is not None and kind.citizen_visible else None


def kind_label(name: str) -> Any:
    kind = get_kind(name)
    return kind.label if kind is not None else name
