"""The declared audit actions: every event names one, with the detail keys it must carry.

Blueprints declare their own actions in their register(app); an undeclared action or a missing key is a
programming error and fails loudly, so the trail never fills with events nobody can interpret.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuditAction:
    name: str
    required: frozenset[str]
    description: str


_ACTIONS: dict[str, AuditAction] = {}


def declare(name: str, required: tuple[str, ...] | list[str] = (), description: str = "") -> AuditAction:
    existing = _ACTIONS.get(name)
    action = AuditAction(name, frozenset(required), description)
    if existing is not None and existing != action:
        raise ValueError(f"audit action {name!r} declared twice with different keys")
    _ACTIONS[name] = action
    return action


def get(name: str) -> AuditAction:
    try:
        return _ACTIONS[name]
    except KeyError:
        raise KeyError(f"undeclared audit action {name!r}; declare it in portal/audit/actions.py") from None


def all_actions() -> list[AuditAction]:
    return sorted(_ACTIONS.values(), key=lambda a: a.name)
