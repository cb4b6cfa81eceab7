"""Statements of other departments inside a case: the clerk asks (question, due date), the asked department's
members see the request and answer once (agree / with conditions / object), the clerk sees the answer and the
conditions can be carried into the permit; each step audited with its mail in the outbox."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from permits.errors import PermitError, PermitInvalid, PermitNotFound
from permits.models import PermitState
from permits.services import applications, desk, statements
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.builders import make_department, make_user
from tests.permits.builders import make_draft

S = PermitState
DUE = date(2099, 1, 15)


@pytest.fixture
def traffic(world):
    department = make_department("strassenverkehr", "Straßenverkehrsbehörde")
    department.email = "verkehr@example.org"
    world.department.email = "tiefbau@example.org"
    member = make_user(
        "svb@example.org", display_name="Sara Verkehr", department=department, department_role="clerk", totp=True
    )
    db.session.commit()
    return department, Actor.for_user(member)


def _checked(world):
    actor = world.applicant_actor
    application = applications.submit(actor, make_draft(actor, carriageway_affected=True), today=date(2026, 5, 4))
    return desk.accept(world.officer_actor, application)


def _ask(world, application, department):
    return statements.request_statement(
        world.officer_actor, application, department.id, "Verkehrsrechtliche Anordnung nötig?", DUE
    )


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


def test_the_clerk_asks_the_traffic_office_which_sees_it_in_its_work_and_gets_a_mail(world, traffic):
    department, member = traffic
    application = _checked(world)
    statement = _ask(world, application, department)
    assert application.state == S.CONSULTATION
    assert _actions(application)[-2:] == ["permits.statement_requested", "permits.application_moved"]
    assert statements.open_for(member) == [statement]
    assert statements.open_for(world.applicant_actor) == []
    [mail] = _mails("permits_statement_requested")
    assert mail.recipient == "verkehr@example.org" and application.reference in mail.body_text
    assert "Verkehrsrechtliche Anordnung" in mail.body_text and f"/stellungnahmen/{statement.id}" in mail.body_text


def test_asking_needs_another_department_a_question_and_a_due_date_not_past(world, traffic):
    department, _member = traffic
    application = _checked(world)
    with pytest.raises(PermitInvalid) as invalid:
        statements.request_statement(world.officer_actor, application, world.department.id, " ", date(2020, 1, 1))
    assert set(invalid.value.errors) >= {"department_id", "question", "due_on"}
    with pytest.raises(PermitNotFound):
        statements.request_statement(_member, application, department.id, "Frage", DUE)
    assert _mails("permits_statement_requested") == [] and statements.statements_of(application) == []


def test_a_member_answers_with_conditions_once_and_they_prefill_the_permit(world, traffic):
    department, member = traffic
    application = _checked(world)
    statement = _ask(world, application, department)
    answer = statements.Answer("conditions", "Einverstanden.", "Absperrung nach RSA 21\nBeschilderung VZ 123")
    statements.answer_statement(member, statement, answer)
    assert statement.verdict == "conditions" and statement.answered_at is not None
    assert statements.open_for(member) == []
    assert statements.conditions_for_permit(application) == "Absperrung nach RSA 21\nBeschilderung VZ 123"
    assert _actions(application)[-1] == "permits.statement_answered"
    [mail] = _mails("permits_statement_answered")
    assert mail.recipient == "tiefbau@example.org"
    with pytest.raises(PermitError) as again:
        statements.answer_statement(member, statement, statements.Answer("agree"))
    assert again.value.code == "already_answered" and statement.verdict == "conditions"


def test_only_the_asked_departments_members_answer(world, traffic):
    department, _member = traffic
    statement = _ask(world, _checked(world), department)
    for outsider in (world.officer_actor, world.applicant_actor):
        with pytest.raises(PermitNotFound):
            statements.answer_statement(outsider, statement, statements.Answer("agree"))
    assert statement.answered_at is None and _mails("permits_statement_answered") == []


def test_an_objection_needs_reasons_and_conditions_need_conditions(world, traffic):
    department, member = traffic
    statement = _ask(world, _checked(world), department)
    with pytest.raises(PermitInvalid) as invalid:
        statements.answer_statement(member, statement, statements.Answer("object", " "))
    assert "text" in invalid.value.errors
    with pytest.raises(PermitInvalid) as invalid:
        statements.answer_statement(member, statement, statements.Answer("conditions", "ok", ""))
    assert "conditions" in invalid.value.errors
    with pytest.raises(PermitInvalid):
        statements.answer_statement(member, statement, statements.Answer("maybe"))
    statements.answer_statement(member, statement, statements.Answer("object", "Schulweg, keine Sperrung"))
    assert statement.verdict == "object" and statements.conditions_for_permit(statement.application) == ""


def _signed_in(app, user):
    from tests.builders import PASSWORD, AuthActions

    person = AuthActions(app.test_client())
    person.login(user.email, PASSWORD)
    person.totp(user)
    return person


def test_through_the_pages_the_clerk_asks_the_member_answers_and_the_clerk_sees_it(app, world, traffic):
    department, member = traffic
    application = _checked(world)
    clerk = _signed_in(app, world.officer)
    case_url = f"/sondernutzung/amt/{application.public_id}"
    assert "Straßenverkehrsbehörde" in clerk.client.get(case_url).text
    bad = clerk.post_form(f"{case_url}/stellungnahme", {"department_id": department.id, "question": "", "due_on": ""})
    assert bad.status_code == 422 and "Bitte stellen Sie dem Amt eine Frage." in bad.text
    asked = clerk.post_form(
        f"{case_url}/stellungnahme",
        {"department_id": department.id, "question": "Anordnung nötig?", "due_on": DUE.isoformat()},
    )
    assert asked.status_code == 302
    [statement] = statements.statements_of(application)

    office = _signed_in(app, member.user)
    work = office.client.get("/arbeit/").text
    assert "/sondernutzung/amt/stellungnahmen" in work
    listing = office.client.get("/sondernutzung/amt/stellungnahmen").text
    assert application.reference in listing
    page_url = f"/sondernutzung/amt/stellungnahmen/{statement.id}"
    wrong = office.post_form(page_url, {"verdict": "conditions", "text": "", "conditions": ""})
    assert wrong.status_code == 422 and "Bitte nennen Sie die Auflagen." in wrong.text
    done = office.post_form(page_url, {"verdict": "conditions", "text": "", "conditions": "Absperrung nach RSA 21"})
    assert done.status_code == 302
    case_page = clerk.client.get(case_url).text
    assert "Zustimmung mit Auflagen" in case_page and "Absperrung nach RSA 21</textarea>" in case_page


def test_the_statement_page_is_not_found_for_staff_outside_the_asked_department(app, world, traffic):
    department, _member = traffic
    statement = _ask(world, _checked(world), department)
    ordnung = make_department("ordnung", "Ordnungsamt")
    other = make_user("fremdamt@example.org", department=ordnung, department_role="clerk", totp=True)
    outsider = _signed_in(app, other)
    assert outsider.client.get(f"/sondernutzung/amt/stellungnahmen/{statement.id}").status_code == 404
    answer = outsider.post_form(f"/sondernutzung/amt/stellungnahmen/{statement.id}", {"verdict": "agree"})
    assert answer.status_code == 404 and statement.answered_at is None
    assert statement.application.reference not in outsider.client.get("/sondernutzung/amt/stellungnahmen").text
