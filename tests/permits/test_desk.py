"""The clerk's side in the services: case list and search, the formal check (accept, ask for documents), the
decision (permit with conditions and validity, refusal with reasons) with its PDFs, the fee notice through the
payments service, the permit in force once paid (or exempt), and the one-click extension."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from payments.services import attempts, orders
from payments.services.events import CheckoutEvent, apply_checkout_event
from permits.errors import PermitError, PermitInvalid, PermitNotFound
from permits.models import PermitState
from permits.services import applications, decisions, desk, extensions
from portal.actors import SYSTEM, Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.builders import make_department, make_user
from tests.permits.builders import make_draft
from tests.portal.pdf.helpers import page_texts

S = PermitState
TODAY = date(2026, 5, 4)


def _submitted(world, **overrides):
    actor = world.applicant_actor
    return applications.submit(actor, make_draft(actor, **overrides), today=TODAY)


def _accepted(world, **overrides):
    return desk.accept(world.officer_actor, _submitted(world, **overrides))


def _grant(world, application, conditions="Zufahrt freihalten"):
    return desk.grant(world.officer_actor, application, desk.Grant(date(2026, 6, 1), date(2026, 6, 3), conditions))


def _pay(application) -> None:
    from payments.models import Payment

    payment = db.session.scalar(sa.select(Payment).where(Payment.public_id == application.payment_public_id))
    attempts.start(SYSTEM, payment.public_id)
    attempt = orders.latest_attempt(payment)
    apply_checkout_event(
        SYSTEM, CheckoutEvent("sandbox", f"evt_{payment.id}", "sandbox.succeeded", attempt.provider_reference)
    )
    db.session.refresh(application)


def _actions(application) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.target_type == "permit_application", AuditEvent.target_id == str(application.id))
            .order_by(AuditEvent.seq)
        )
    )


def _mails(template: str) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == template)))


def test_the_case_list_shows_submitted_cases_filtered_by_state_and_searched(world):
    first = _submitted(world)
    second = _submitted(world, street="Hauptstraße")
    make_draft(world.applicant_actor)  # drafts are the applicant's business
    desk.accept(world.officer_actor, second)
    officer = world.officer_actor
    assert [c.reference for c in desk.case_list(officer)] == [second.reference, first.reference]
    assert [c.reference for c in desk.case_list(officer, state="submitted")] == [first.reference]
    assert [c.reference for c in desk.case_list(officer, query="haupt")] == [second.reference]
    assert [c.reference for c in desk.case_list(officer, query=first.reference)] == [first.reference]
    assert desk.case_list(officer, query="100%") == []


def test_the_case_list_is_for_clerks_of_the_department_only(world):
    _submitted(world)
    with pytest.raises(PermitNotFound):
        desk.case_list(world.applicant_actor)
    other = make_department("bauordnung", "Bauordnungsamt")
    stranger = make_user("fremd@stadt.example", department=other, department_role="permit_officer")
    assert desk.case_list(Actor.for_user(stranger)) == []


def test_asking_for_documents_shows_the_note_to_the_applicant_and_mails_it(world):
    application = _submitted(world)
    desk.request_documents(world.officer_actor, application, "Bitte den Lageplan nachreichen.")
    assert application.state == S.DOCUMENTS_REQUESTED
    assert application.request_note == "Bitte den Lageplan nachreichen."
    [mail] = _mails("permits_documents_requested")
    assert mail.recipient == "antrag@example.org" and "Bitte den Lageplan nachreichen." in mail.body_text
    assert _actions(application)[-2:] == ["permits.application_moved", "permits.documents_requested"]
    # The applicant answers and hands it back; a decision still needs the formal check passed.
    applications.move(world.applicant_actor, application, S.FORMAL_CHECK.value, note="Unterlagen nachgereicht")
    with pytest.raises(PermitError) as refused:
        _grant(world, application)
    assert refused.value.code == "not_checked"


def test_asking_for_documents_needs_a_note(world):
    application = _submitted(world)
    with pytest.raises(PermitError) as refused:
        desk.request_documents(world.officer_actor, application, "   ")
    assert refused.value.field == "note" and application.state == S.SUBMITTED


def test_granting_with_a_fee_issues_the_fee_notice_with_a_kassenzeichen_and_two_pdfs(world):
    application = _grant(world, _accepted(world))
    assert application.state == S.FEE_NOTICE
    assert application.kassenzeichen and len(application.kassenzeichen) == 13
    assert {d.kind for d in application.documents} == {"permit", "fee_notice"}
    permit = " ".join(page_texts(decisions.get_document(world.applicant_actor, application, "permit").content))
    assert "Sondernutzungserlaubnis" in permit and "Zufahrt freihalten" in permit
    assert "01.06.2026" in permit and "03.06.2026" in permit and "Widerspruch" in permit
    notice = " ".join(page_texts(decisions.get_document(world.applicant_actor, application, "fee_notice").content))
    assert "39,40 €" in notice and application.kassenzeichen[:2] in notice
    assert _actions(application)[-2:] == ["permits.application_granted", "permits.fee_notice_issued"]
    [mail] = _mails("permits_decided")
    assert "/bezahlen/" in mail.body_text


def test_the_permit_becomes_active_only_when_the_fee_is_paid(world):
    application = _grant(world, _accepted(world))
    assert application.state == S.FEE_NOTICE
    _pay(application)
    assert application.state == S.ACTIVE
    assert _actions(application)[-2:] == ["permits.fee_paid", "permits.permit_activated"]
    assert len(_mails("permits_active")) == 1


def test_a_fee_exempt_permit_is_in_force_at_once_without_a_payment_order(world):
    exempt = _submitted(world)
    exempt.fee_cents = 0  # what a full exemption of usage and administrative fee leaves to pay
    db.session.commit()
    desk.accept(world.officer_actor, exempt)
    _grant(world, exempt)
    assert exempt.state == S.ACTIVE and exempt.kassenzeichen is None
    assert {d.kind for d in exempt.documents} == {"permit"}
    assert _actions(exempt)[-2:] == ["permits.application_granted", "permits.permit_activated"]


def test_refusing_needs_reasons_and_stores_the_refusal(world):
    application = _accepted(world)
    with pytest.raises(PermitError):
        desk.refuse(world.officer_actor, application, "")
    desk.refuse(world.officer_actor, application, "Die Fläche liegt in einer Feuerwehrzufahrt.")
    assert application.state == S.REFUSED
    text = " ".join(page_texts(decisions.get_document(world.applicant_actor, application, "refusal").content))
    assert "Feuerwehrzufahrt" in text and "Widerspruch" in text


def test_a_grant_needs_a_validity_whose_end_is_not_before_its_start(world):
    application = _accepted(world)
    with pytest.raises(PermitInvalid) as invalid:
        desk.grant(world.officer_actor, application, desk.Grant(date(2026, 6, 3), date(2026, 6, 1)))
    assert "valid_until" in invalid.value.as_text()
    assert application.state == S.FORMAL_CHECK and application.documents == []


def test_only_a_clerk_decides_and_documents_are_the_case_owners(world):
    application = _accepted(world)
    with pytest.raises(PermitNotFound):
        _grant(type("W", (), {"officer_actor": world.applicant_actor})(), application)
    _grant(world, application)
    stranger = Actor.for_user(make_user("fremd@example.org"))
    with pytest.raises(PermitNotFound):
        decisions.get_document(stranger, application, "permit")


def test_an_active_permit_is_extended_by_a_linked_prefilled_draft(world):
    application = _grant(world, _accepted(world))
    with pytest.raises(PermitError):
        extensions.request_extension(world.applicant_actor, application)  # not yet in force
    _pay(application)
    draft = extensions.request_extension(world.applicant_actor, application)
    assert draft.state == S.DRAFT and draft.extends_id == application.id
    assert draft.street == "Markt" and draft.area_dm2 == application.area_dm2
    assert draft.starts_on == date(2026, 6, 4) and draft.ends_on is None
    assert extensions.request_extension(world.applicant_actor, application).id == draft.id  # one open at a time
