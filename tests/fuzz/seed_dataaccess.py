"""Data-access and treasury rows the demo data lacks, so the form crawl reaches the buttons acting on them (issue
11: shrink UNREACHED): a draft version of an agreement, a submitted one waiting for its two approvals, an open
emergency access (break-glass) and an ended one waiting for the dpo's review; bank statement lines no payment
matched. Made through the services, each audited."""

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


def bank_statement_rows(demo_domain: str) -> None:
    """payments_reconciliation.assign and mark_returned need a credit the import could not match: the treasury
    imports a day's statement (the online banking's CSV) with two transfers naming no Kassenzeichen."""
    from payments.services import statements

    treasurer = _user(f"kasse@{demo_domain}")
    if treasurer is None:
        return
    header = "Buchungstag;Valuta;Name Zahlungsbeteiligter;IBAN Zahlungsbeteiligter;Verwendungszweck;Betrag;Währung"
    rows = [
        '01.12.2026;01.12.2026;Erika Fuzz;DE89370400440532013000;"Gebuehr Container";39,40;EUR',
        '01.12.2026;01.12.2026;Max Bauherr;DE89370400440532013000;"Sondernutzung Markt";25,00;EUR',
    ]
    text = "\r\n".join(["Kontoinhaber;Stadtkasse Musterstadt", "", header, *rows, "Neuer Kontostand;;;;;64,40;EUR"])
    statements.import_statement(Actor.for_user(treasurer), "umsaetze-fuzz.csv", (text + "\r\n").encode())
