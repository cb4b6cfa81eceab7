"""The declared audit actions: every event names one, with the detail keys it must carry.

Blueprints declare their own actions in their register(app); an undeclared action or a missing key is a
programming error and fails loudly, so the trail never fills with events nobody can interpret.

Well-known detail keys: the citizen's log (/konto/protokoll) shows these in words, for any action. A service
that touches a person's data on behalf of the administration (the data-access service above all) records why,
on which legal ground and by which office, with exactly these names:

    audit.record(
        "dataaccess.record_viewed", actor, subject_user_id=citizen.id, target=agreement,
        purpose="Prüfung Ihres Antrags auf Wohngeld",            # PURPOSE: str, plain German, for the citizen
        legal_basis="Art. 6 Abs. 1 lit. e DSGVO, § 20 SGB X",    # LEGAL_BASIS: str, as the law cites it
        department_id=department.id,                             # DEPARTMENT_ID: int, portal.departments Department.id
    )

The department's name is looked up when the log is shown (so a renamed office shows its current name); a
service may add `department` (DEPARTMENT_NAME: str, the name at the time) as a fallback for an office that no
longer exists. Declare the keys as required for actions that must always carry them:
`declare("dataaccess.record_viewed", [PURPOSE, LEGAL_BASIS, DEPARTMENT_ID], ...)`. audit.record refuses a
well-known key of the wrong type (an empty purpose, a department id that is neither an integer nor None).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuditAction:
    name: str
    required: frozenset[str]
    description: str


PURPOSE = "purpose"
LEGAL_BASIS = "legal_basis"
DEPARTMENT_ID = "department_id"
DEPARTMENT_NAME = "department"
WELL_KNOWN_KEYS = (PURPOSE, LEGAL_BASIS, DEPARTMENT_ID, DEPARTMENT_NAME)

_ACTIONS: dict[str, AuditAction] = {}


def check_well_known(details: dict[str, object]) -> None:
    """Raise ValueError if a well-known detail key carries a value the citizen's log cannot show."""
    for key in (PURPOSE, LEGAL_BASIS, DEPARTMENT_NAME):
        value = details.get(key, "-")
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"audit detail {key!r} must be a non-empty string")
    if DEPARTMENT_ID in details:
        value = details[DEPARTMENT_ID]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"audit detail {DEPARTMENT_ID!r} must be a department's integer id (or None)")


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
