"""/admin/freigaben: what each staff member sees, deciding by form, and the requester shut out of their own."""

from __future__ import annotations

import sqlalchemy as sa

from portal.actors import Actor
from portal.approvals.models import ApprovalRequest
from portal.approvals.services import decide, request_approval
from portal.extensions import db
from tests.builders import csrf_from
from tests.portal.admin.conftest import audit_events, sign_in
from tests.portal.approvals.conftest import ask_refund


def _state(request_id: int) -> str:
    db.session.expire_all()
    return db.session.get(ApprovalRequest, request_id).state


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_list_shows_only_what_the_person_may_decide_and_their_own_requests_waiting(
    client, effects, clerk, treasurer, second_treasurer, citizen, buergeramt
):
    own = ask_refund(treasurer, citizen, subject_id=1)
    decidable = ask_refund(clerk, citizen, subject_id=2, amount_cents=4200)
    decided = ask_refund(clerk, citizen, subject_id=3)
    decide(Actor.for_user(second_treasurer), decided.id, approve=True)
    other_role = request_approval(
        Actor.for_user(clerk), "tests.access", ("dataset", 4), {}, "Auswertung", department_id=buergeramt.id
    )
    sign_in(client, treasurer)

    page = _page(client, "/admin/freigaben")

    to_decide, mine = page.split("Von Ihnen beantragt")
    assert decidable.reference in to_decide and "Erstattung von 42.00 EUR" in to_decide
    assert own.reference not in to_decide
    assert decided.reference not in page and other_role.reference not in page
    assert own.reference in mine and "wartet auf zweite Person" in mine


def test_a_person_without_any_decider_role_sees_nothing_to_decide(client, effects, clerk, citizen, buergeramt):
    from tests.builders import make_user

    ask_refund(clerk, citizen)
    colleague = make_user("kollegin@stadt.example", department=buergeramt, department_role="clerk", totp=True)
    sign_in(client, colleague)

    page = _page(client, "/admin/freigaben")

    assert "Zurzeit wartet nichts auf Ihre Entscheidung." in page
    assert "FRG-" not in page


def test_a_second_person_approves_by_form(client, effects, clerk, treasurer, citizen):
    request = ask_refund(clerk, citizen)
    sign_in(client, treasurer)
    url = f"/admin/freigaben/{request.id}"
    page = _page(client, url)
    assert "Entscheidung speichern" in page and "doppelt bezahlt" in page

    response = client.post(url, data={"csrf_token": csrf_from(page), "decision": "approve", "note": ""})

    assert response.status_code == 302 and response.location.endswith("/admin/freigaben")
    assert f"Die Freigabe {request.reference} ist erteilt." in _page(client, "/admin/freigaben")
    assert _state(request.id) == "approved"
    assert effects.approved == [request.reference]


def test_a_rejection_without_a_note_shows_the_error_and_changes_nothing(client, effects, clerk, treasurer, citizen):
    request = ask_refund(clerk, citizen)
    sign_in(client, treasurer)
    url = f"/admin/freigaben/{request.id}"

    response = client.post(url, data={"csrf_token": csrf_from(_page(client, url)), "decision": "reject", "note": ""})

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Bitte korrigieren Sie Ihre Eingaben" in page and "Begründen Sie die Ablehnung." in page
    assert 'href="#note"' in page
    assert _state(request.id) == "requested"


def test_a_decision_without_choosing_shows_the_error(client, effects, clerk, treasurer, citizen):
    request = ask_refund(clerk, citizen)
    sign_in(client, treasurer)
    url = f"/admin/freigaben/{request.id}"

    response = client.post(url, data={"csrf_token": csrf_from(_page(client, url)), "note": "ok"})

    assert "Wählen Sie, ob Sie freigeben oder ablehnen." in response.get_data(as_text=True)
    assert _state(request.id) == "requested"


def test_the_requester_gets_no_decision_form_and_a_forged_post_is_refused(client, effects, treasurer, citizen):
    request = ask_refund(treasurer, citizen)
    sign_in(client, treasurer)
    url = f"/admin/freigaben/{request.id}"
    page = _page(client, url)
    assert "wartet auf eine zweite Person" in page
    assert "Entscheidung speichern" not in page

    response = client.post(url, data={"csrf_token": csrf_from(page), "decision": "approve", "note": ""})

    assert response.status_code == 403
    assert _state(request.id) == "requested"
    assert effects.approved == [] and audit_events("approval.approved") == []


def test_the_requester_withdraws_by_button(client, effects, clerk, citizen):
    request = ask_refund(clerk, citizen)
    sign_in(client, clerk)
    url = f"/admin/freigaben/{request.id}"

    response = client.post(f"{url}/zurueckziehen", data={"csrf_token": csrf_from(_page(client, url))})

    assert response.status_code == 302
    assert f"Sie haben die Freigabe {request.reference} zurückgezogen." in _page(client, "/admin/freigaben")
    assert _state(request.id) == "withdrawn"


def test_a_request_closed_undecided_says_so_and_why_on_its_page(client, effects, clerk, treasurer, citizen):
    from portal.approvals.services import close_request
    from portal.transaction import transaction

    request = ask_refund(clerk, citizen)
    with transaction():
        close_request(Actor.for_user(treasurer), db.session.get(ApprovalRequest, request.id), "Fall beendet.")
    sign_in(client, clerk)

    page = _page(client, f"/admin/freigaben/{request.id}")

    assert "ohne Entscheidung geschlossen" in page and "Warum geschlossen" in page and "Fall beendet." in page
    assert "Entschieden von" not in page


def test_a_decision_without_csrf_token_is_refused(client, effects, clerk, treasurer, citizen):
    request = ask_refund(clerk, citizen)
    sign_in(client, treasurer)

    response = client.post(f"/admin/freigaben/{request.id}", data={"decision": "approve"})

    assert response.status_code == 400
    assert _state(request.id) == "requested"


def test_staff_without_a_decider_role_cannot_open_someone_elses_request(client, effects, clerk, citizen, buergeramt):
    from tests.builders import make_user

    request = ask_refund(clerk, citizen)
    colleague = make_user("kollegin@stadt.example", department=buergeramt, department_role="clerk", totp=True)
    sign_in(client, colleague)

    assert client.get(f"/admin/freigaben/{request.id}").status_code == 404


def test_citizens_are_kept_out(client, effects, clerk, citizen):
    request = ask_refund(clerk, citizen)
    sign_in(client, citizen)

    assert client.get("/admin/freigaben").status_code == 403
    assert client.get(f"/admin/freigaben/{request.id}").status_code == 403


def test_the_admin_overview_links_to_the_approvals(client, treasurer):
    sign_in(client, treasurer)

    page = _page(client, "/admin/")

    assert 'href="/admin/freigaben"' in page and "Freigaben (Vier-Augen-Prinzip)" in page


def test_a_decided_request_shows_who_decided_and_why(client, effects, clerk, treasurer, citizen):
    request = ask_refund(clerk, citizen)
    decide(Actor.for_user(treasurer), request.id, approve=False, note="Betrag stimmt nicht")
    sign_in(client, clerk)

    page = _page(client, f"/admin/freigaben/{request.id}")

    assert "abgelehnt" in page and "Tina Kasse" in page and "Betrag stimmt nicht" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApprovalRequest)) == 1
