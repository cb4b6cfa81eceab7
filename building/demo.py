"""The building part of `flask demo load`: the agreement under which the portal tells citizens the status of their
building applications, and the portal's client bound to it. Runs after the data-access demo (its catalogue, the
building authority's records of the demo citizen) and the appointments demo (the Technisches Rathaus offers
"Beratung Bauantrag"). Idempotent.

Who does what: the purpose "Auskunft an Betroffene" and its legal basis are in the data-access demo's catalogue.
The Hauptamt runs the portal, so its data steward drafts the agreement: the demo makes amtsadmin@ data steward of
the Hauptamt for that (daten@, the Hauptamt's steward in the core demo, approves for the building authority and may
not approve their own request); the four-eyes approval is the data-access demo's; the system sets up the client.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from building.services import portal_client
from building.setup import connect_portal_client
from dataaccess import demo as dataaccess_demo
from dataaccess.models import AgreementState
from portal.accounts.models import DepartmentMembership, User
from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.demo_data import DEMO_DOMAIN, _require_demo
from portal.departments.services import get_department_by_slug
from portal.extensions import db
from portal.transaction import transaction

CONSUMER = "hauptamt"
DRAFTER = f"amtsadmin@{DEMO_DOMAIN}"
PURPOSE = "AUSK-BETR"  # in the data-access demo's catalogue, with its legal basis
LEGAL_BASIS = "Auskunft an Betroffene (Art. 15 DSGVO)"
AGREEMENT = dataaccess_demo.DemoAgreement(
    "bauordnung.baugenehmigungen",
    CONSUMER,
    ["aktenzeichen", "vorhaben", "grundstueck", "status", "erteilt_am"],
    PURPOSE,
    LEGAL_BASIS,
    False,
    "Das Bürgerportal zeigt der angemeldeten Person den Stand ihrer eigenen Bauanträge (nur ihre eigenen).",
)


def _user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))


def load(echo: Callable[[str], None] = print) -> dict[str, int]:
    _require_demo()
    echo("Building (Bauen) …")
    drafter, consumer = _user(DRAFTER), get_department_by_slug(CONSUMER)
    if drafter is None or consumer is None:
        echo("  skipped: demo accounts or the Hauptamt missing (run the core demo first)")
        return {}
    created = 0
    with transaction():
        if not drafter.has_role("data_steward", consumer.id):
            drafter.memberships.append(DepartmentMembership(department_id=consumer.id, role="data_steward"))
            audit.record(
                "role.granted",
                SYSTEM,
                target=drafter,
                subject_user_id=drafter.id,
                role="data_steward",
                department_id=consumer.id,
            )
            created += 1
    agreement = dataaccess_demo._Loader(echo).agreement(AGREEMENT)
    if agreement is None or agreement.state != AgreementState.APPROVED:
        echo("  skipped the portal's client: the agreement is not approved")
        return {"building": created}
    if portal_client() is None:
        connect_portal_client(SYSTEM, agreement.reference)
        created += 1
    echo(f"  agreement {agreement.reference}, portal client: {created} created")
    return {"building": created}
