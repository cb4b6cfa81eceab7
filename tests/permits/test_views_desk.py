"""The clerk's pages (/sondernutzung/amt) and what the applicant sees of them, through the pages as a browser
would: list and search, ask for documents, the applicant's answer by upload, the formal check, the decision with
its PDFs, payment in the sandbox, the permit in force, the one-click extension."""

from __future__ import annotations

import contextlib
import re

import pytest
import sqlalchemy as sa

from permits.models import PermitApplication, PermitState
from permits.services import applications, lifecycle
from permits.views import day
from portal import access
from portal.extensions import db
from tests.builders import PASSWORD, AuthActions, csrf_from
from tests.permits.builders import make_draft
from tests.permits.web import future, upload_pdf

S = PermitState
DESK = "/sondernutzung/amt"


def _submitted(world) -> PermitApplication:
    actor = world.applicant_actor
    first = future()
    return applications.submit(actor, make_draft(actor, start=first, end=first))


def _sign_out(auth) -> None:
    with contextlib.suppress(AssertionError):  # signed out already: the home page has no form with a token
        auth.logout()


@pytest.fixture
def clerk(app, world) -> AuthActions:
    """A second browser, the clerk's, signed in once with two factors (a TOTP code is good only once)."""
    actions = AuthActions(app.test_client())
    actions.login(world.officer.email, PASSWORD)
    assert actions.totp(world.officer).status_code in (302, 303)
    return actions


def _applicant(auth) -> None:
    _sign_out(auth)
    auth.login("antrag@example.org", PASSWORD)


def _fresh(application: PermitApplication) -> PermitApplication:
    db.session.expire_all()
    return db.session.get(PermitApplication, application.id)


def _pay_in_sandbox(client, path: str) -> None:
    page = client.get(path)
    started = client.post(f"{path}/bezahlen", data={"csrf_token": csrf_from(page.text)})
    assert started.status_code == 303, started.status_code
    sandbox = client.get(started.headers["Location"])
    done = client.post(
        started.headers["Location"], data={"csrf_token": csrf_from(sandbox.text), "ergebnis": "succeeded"}
    )
    assert done.status_code == 303


def test_every_desk_page_is_for_permit_clerks_but_the_statement_pages_for_staff(app):
    # The asked department's members are not permit clerks; the service admits only them (and the case's clerks).
    statement_pages = {"permits_desk.statement_list", "permits_desk.statement"}
    endpoints = [r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("permits_desk.")]
    assert len(endpoints) >= 6 and statement_pages <= set(endpoints)
    for endpoint in endpoints:
        rule = access.rule_for(app, endpoint)
        if endpoint in statement_pages:
            assert rule.kind == "staff", endpoint
        else:
            assert (rule.kind, rule.roles) == ("role", frozenset({"permit_officer", "platform_admin"})), endpoint


def test_an_applicant_may_not_open_the_desk(client, auth, world):
    application = _submitted(world)
    _applicant(auth)
    assert client.get(f"{DESK}/").status_code == 403
    assert client.get(f"{DESK}/{application.public_id}").status_code == 403


def test_the_case_list_filters_by_state_and_searches_by_street(clerk, world):
    application = _submitted(world)
    desk = clerk.client
    listing = desk.get(f"{DESK}/")
    assert listing.status_code == 200 and application.reference in listing.text
    assert application.reference in desk.get(f"{DESK}/?state=submitted&q=mark").text
    assert application.reference not in desk.get(f"{DESK}/?state=refused").text
    assert application.reference not in desk.get(f"{DESK}/?q=Hauptstra").text
    assert desk.get(f"{DESK}/?state=nonsense").status_code == 422


def test_the_whole_clerk_journey_through_the_pages(client, auth, clerk, world):
    application = _submitted(world)
    case_url = f"{DESK}/{application.public_id}"
    page = clerk.client.get(case_url)
    assert page.status_code == 200 and "Formelle Prüfung" in page.text and "Antrag eingereicht" in page.text
    assert "permits.application_submitted" not in page.text  # the history reads as sentences, not action names

    # Ask for a document: an empty note is refused next to its field.
    refused = clerk.post_form(f"{case_url}/nachfordern", {"note": ""})
    assert refused.status_code == 422 and "Bitte schreiben Sie, welche Unterlagen fehlen." in refused.text
    asked = clerk.post_form(f"{case_url}/nachfordern", {"note": "Bitte ein Foto der Fläche nachreichen."})
    assert asked.status_code == 302 and _fresh(application).state == S.DOCUMENTS_REQUESTED

    # The applicant sees the note, uploads and hands the case back.
    _applicant(auth)
    own = f"/sondernutzung/antraege/{application.public_id}"
    assert "Bitte ein Foto der Fläche nachreichen." in client.get(own).text
    assert upload_pdf(auth, f"{own}/nachreichen").status_code == 302
    assert auth.post_form(f"{own}/nachreichung-abschliessen", {}).status_code == 302
    assert _fresh(application).state == S.FORMAL_CHECK

    # The clerk finds it complete and grants the permit with a condition.
    assert clerk.post_form(f"{case_url}/vollstaendig", {}).status_code == 302
    first = application.starts_on.isoformat()
    bad = clerk.post_form(f"{case_url}/erteilen", {"valid_from": first, "valid_until": "2000-01-01", "conditions": ""})
    assert bad.status_code == 422 and "Das Ende darf nicht vor dem Beginn liegen." in bad.text
    granted = clerk.post_form(
        f"{case_url}/erteilen", {"valid_from": first, "valid_until": first, "conditions": "Gehweg 1,50 m freihalten"}
    )
    assert granted.status_code == 302
    application = _fresh(application)
    assert application.state == S.FEE_NOTICE and application.kassenzeichen
    pdf = clerk.client.get(f"{case_url}/bescheid/permit.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    # The applicant downloads both documents and pays in the sandbox before the first day: paid, not yet in force.
    page = client.get(own).text
    assert "Gebührenbescheid (PDF)" in page and "Jetzt bezahlen" in page
    for kind in ("permit", "fee_notice"):
        download = client.get(f"{own}/bescheid/{kind}.pdf")
        assert download.status_code == 200 and download.headers["Content-Type"] == "application/pdf"
        assert download.data.startswith(b"%PDF")
    assert client.get(f"{own}/bescheid/refusal.pdf").status_code == 404
    [path] = re.findall(r'href="(/bezahlen/[0-9a-f]{32})"', page)
    _pay_in_sandbox(client, path)
    assert _fresh(application).state == S.PAID
    waiting = f"Erteilt und bezahlt – gilt ab {day(application.starts_on)}"
    own_page = client.get(own).text
    assert waiting in own_page
    assert "Verlängerung beantragen" not in own_page
    desk_page = clerk.client.get(case_url).text
    assert waiting in desk_page and "Gebühr bezahlt" in desk_page

    # On its first day the calendar job puts it in force.
    assert lifecycle.run(application.starts_on).activated == 1
    assert _fresh(application).state == S.ACTIVE
    assert "Erlaubnis in Kraft" in clerk.client.get(case_url).text
    page = client.get(own).text
    assert "Erlaubnis gilt" in page and "Verlängerung beantragen" in page

    # One click: a linked draft, prefilled.
    extended = auth.post_form(f"{own}/verlaengern", {})
    assert extended.status_code == 302 and extended.headers["Location"].endswith("/aufgaben")
    draft = db.session.scalar(sa.select(PermitApplication).where(PermitApplication.extends_id == application.id))
    assert draft is not None and draft.state == S.DRAFT and draft.street == application.street


def test_somebody_elses_decision_document_is_not_found(client, auth, world):
    application = _submitted(world)
    from tests.builders import make_user

    make_user("fremd@example.org")
    auth.login("fremd@example.org", PASSWORD)
    assert client.get(f"/sondernutzung/antraege/{application.public_id}/bescheid/permit.pdf").status_code == 404


def test_the_clerk_may_read_the_applicants_attachments(client, auth, clerk, world):
    application = _submitted(world)
    own = f"/sondernutzung/antraege/{application.public_id}"
    clerk.post_form(f"{DESK}/{application.public_id}/nachfordern", {"note": "Lageplan fehlt"})
    _applicant(auth)
    assert upload_pdf(auth, f"{own}/nachreichen").status_code == 302
    page = clerk.client.get(f"{DESK}/{application.public_id}").text
    [link] = re.findall(r'href="(/dateien/[^"]+)"', page)
    assert clerk.client.get(link).status_code == 200
