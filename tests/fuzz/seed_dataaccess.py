"""Data-access rows the demo data lacks, so the form crawl reaches the buttons acting on them (issue 11: shrink
UNREACHED): a draft version of an agreement, a submitted one waiting for its two approvals, an open emergency
access (break-glass) and an ended one waiting for the dpo's review. Made through the services, each audited."""

from __future__ import annotations

import sqlalchemy as sa

from portal.accounts.models import User
from portal.actors import Actor
from portal.extensions import db


def _user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def dataaccess_rows(demo_domain: str) -> None:
    """Call inside an app context, after the demo data is loaded."""
    from dataaccess.models import AccessAgreement, AgreementState
    from dataaccess.services import agreements

    # agreement_edit and agreement_submit need a draft; approvals.decide (the data steward's and the dpo's) and
    # approvals.withdraw (the requester's) a submitted version. New versions of the demo's approved agreements.
    approved = db.session.scalars(
        sa.select(AccessAgreement)
        .where(AccessAgreement.state == AgreementState.APPROVED.value)
        .order_by(AccessAgreement.id)
        .limit(2)
    ).all()
    for position, agreement in enumerate(approved):
        drafter = db.session.get(User, agreement.requested_by_id) if agreement.requested_by_id else None
        if drafter is None:
            continue
        actor = Actor.for_user(drafter)
        draft = agreements.new_version(actor, agreement.id)
        if position == 1:
            agreements.submit(actor, draft.id, "Neue Fassung zur Prüfung")
    official = _user(f"sachbearbeitung@{demo_domain}")
    if official is not None:
        _emergency_accesses(Actor.for_user(official))


def _emergency_accesses(official: Actor) -> None:
    """breakglass_read and breakglass_end need an open session of the person; dataaccess_dpo.review_close an
    ended one (every session opens a review for the dpo)."""
    from dataaccess.models import BreakGlassCategory
    from dataaccess.services import breakglass

    departments = breakglass.departments_for(official)
    if not departments:
        return
    datasets = breakglass.datasets_for([departments[0].id])
    if not datasets:
        return
    opened = [
        breakglass.open_session(
            official,
            department_id=departments[0].id,
            dataset_id=datasets[0].id,
            category=BreakGlassCategory.DANGER_TO_LIFE.value,
            reason=reason,
        )
        for reason in ("Vermisste Person, Angehörige gesucht", "Unfall auf der Baustelle, Halter gesucht")
    ]
    breakglass.end_session(official, opened[1].id)


def consent_page(demo_domain: str) -> dict[str | None, list[str]]:
    """dataaccess_citizen.consent is the page a service links to when an agreement reads a person's data only on
    their own request (a permit application does so for the building agreement, which in the demo needs no
    request). The demo's fees agreement needs one: the crawl starts the demo citizen there."""
    from flask import current_app, url_for

    from dataaccess.demo import CASE
    from dataaccess.models import AccessAgreement, AgreementState

    agreement = db.session.scalar(
        sa.select(AccessAgreement)
        .where(
            AccessAgreement.state == AgreementState.APPROVED.value,
            AccessAgreement.requires_citizen_request.is_(True),
        )
        .order_by(AccessAgreement.id)
        .limit(1)
    )
    if agreement is None or not agreement.purposes:
        return {}
    with current_app.test_request_context("/"):
        page = url_for(
            "dataaccess_citizen.consent", agreement=agreement.reference, purpose=agreement.purposes[0], case=CASE
        )
    return {"buerger": [page]}
