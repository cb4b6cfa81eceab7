"""The managers' answer pages (/admin/beteiligung/<id>/antworten) and what citizens then see: the answer with its
status, date and department on the proposal page, the implementation status with its notes, a badge and a
filter on the list."""

from __future__ import annotations

import pytest

from participation.services import answers, consultations, supports
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import csrf_from
from tests.participation.builders import World, actor, fresh, make_consultation, make_proposal
from tests.portal.admin.conftest import sign_in

XSS = '<script>alert("x")</script>'


@pytest.fixture
def staff(world: World) -> World:
    for user in (world.manager, world.other_manager, world.admin):
        user.totp_enabled_at = utcnow()
    db.session.commit()
    return world


def _answer_url(consultation, proposal) -> str:
    return f"/admin/beteiligung/{consultation.id}/antworten/{proposal.reference}"


def _public_url(consultation, proposal) -> str:
    return f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"


def _post(client, url: str, data: dict, page_url: str):
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={"csrf_token": csrf_from(page.text), **data})


def test_a_manager_finds_waiting_proposals_answers_one_and_citizens_read_the_answer(staff, client):
    consultation = make_consultation(staff, support_threshold=1)
    proposal = make_proposal(staff, consultation, title="Trinkbrunnen am Markt")
    supports.support(actor(staff.ben), proposal.id)
    sign_in(client, staff.manager)

    detail = client.get(f"/admin/beteiligung/{consultation.id}").get_data(as_text=True)
    assert f"/admin/beteiligung/{consultation.id}/antworten" in detail
    listing = client.get(f"/admin/beteiligung/{consultation.id}/antworten").get_data(as_text=True)
    assert "Trinkbrunnen am Markt" in listing and "Anna Aktiv" in listing

    url = _answer_url(consultation, proposal)
    done = _post(client, url, {"answer-status": "accepted", "answer-text": "Der Brunnen kommt im Mai."}, url)

    assert done.status_code == 303 and done.headers["Location"].endswith(url)
    assert "Kein Vorschlag wartet auf eine Antwort." in client.get(
        f"/admin/beteiligung/{consultation.id}/antworten"
    ).get_data(as_text=True)
    answered = client.get(f"/admin/beteiligung/{consultation.id}/antworten?zeigen=beantwortet").get_data(as_text=True)
    assert "Trinkbrunnen am Markt" in answered and "Angenommen" in answered
    public = client.get(_public_url(consultation, proposal)).get_data(as_text=True)
    assert "Antwort der Verwaltung" in public and "Angenommen" in public
    assert "Der Brunnen kommt im Mai." in public and "Stadtplanungsamt am" in public
    assert staff.manager.email not in public


def test_a_form_with_errors_names_them_and_keeps_what_was_typed(staff, client):
    consultation = make_consultation(staff)
    proposal = make_proposal(staff, consultation)
    sign_in(client, staff.manager)
    url = _answer_url(consultation, proposal)

    page = _post(client, url, {"answer-text": "Halb fertig getippt"}, url)

    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "Bitte korrigieren Sie Ihre Eingaben" in html
    assert "Wählen Sie, wie die Verwaltung den Vorschlag beantwortet." in html
    assert "Halb fertig getippt" in html
    assert fresh(proposal).answer_status is None


def test_progress_is_offered_only_after_acceptance_and_shown_with_its_history(staff, client):
    consultation = make_consultation(staff)
    proposal = make_proposal(staff, consultation)
    sign_in(client, staff.manager)
    url = _answer_url(consultation, proposal)
    assert "Stand der Umsetzung mitteilen" not in client.get(url).get_data(as_text=True)

    refused = _post(client, f"{url}/umsetzung", {"progress-status": "planned", "progress-text": "Bald."}, url)
    assert refused.status_code == 422
    assert "erst, wenn der Vorschlag angenommen ist" in refused.get_data(as_text=True)

    _post(client, url, {"answer-status": "accepted", "answer-text": "Wird gemacht."}, url)
    assert "Stand der Umsetzung mitteilen" in client.get(url).get_data(as_text=True)
    done = _post(
        client, f"{url}/umsetzung", {"progress-status": "in_progress", "progress-text": "Bäume bestellt."}, url
    )
    assert done.status_code == 303

    public = client.get(_public_url(consultation, proposal)).get_data(as_text=True)
    assert "Stand der Umsetzung" in public and "In Umsetzung" in public and "Bäume bestellt." in public
    assert "Verlauf" in public
    assert public.index("Antwort: Angenommen") < public.index("Umsetzung: In Umsetzung")


def test_another_departments_manager_may_not_answer(staff, client):
    consultation = make_consultation(staff)
    proposal = make_proposal(staff, consultation)
    sign_in(client, staff.other_manager)

    assert client.get(f"/admin/beteiligung/{consultation.id}/antworten").status_code == 403
    assert client.get(_answer_url(consultation, proposal)).status_code == 403


def test_a_citizen_may_not_open_the_answer_pages(staff, client):
    consultation = make_consultation(staff)
    sign_in(client, staff.ben)

    assert client.get(f"/admin/beteiligung/{consultation.id}/antworten").status_code == 403


def test_an_archived_consultation_offers_no_answer_form(staff, client):
    consultation = make_consultation(staff)
    proposal = make_proposal(staff, consultation)
    consultations.close(actor(staff.manager), consultation.id)
    consultations.archive(actor(staff.manager), consultation.id)
    sign_in(client, staff.manager)

    html = client.get(_answer_url(consultation, proposal)).get_data(as_text=True)

    assert "Antwort veröffentlichen" not in html
    assert "kann nichts mehr beantwortet werden" in html


def test_answer_texts_come_back_escaped(staff, client):
    consultation = make_consultation(staff)
    proposal = make_proposal(staff, consultation)
    answers.answer(actor(staff.manager), proposal.id, "accepted", f"Antwort {XSS}")
    answers.add_progress(actor(staff.manager), proposal.id, "done", f"Fertig {XSS}")
    sign_in(client, staff.manager)

    for url in (_public_url(consultation, proposal), _answer_url(consultation, proposal)):
        html = client.get(url).get_data(as_text=True)
        assert XSS not in html
        assert "&lt;script&gt;" in html


def test_the_list_shows_the_answer_as_a_badge_and_filters_answered_proposals(staff, client):
    consultation = make_consultation(staff)
    answered = make_proposal(staff, consultation, title="Trinkbrunnen am Markt")
    make_proposal(staff, consultation, title="Mehr Bänke")
    answers.answer(actor(staff.manager), answered.id, "rejected", "Kein Wasseranschluss.")
    url = f"/beteiligung/{consultation.slug}"

    everything = client.get(url).get_data(as_text=True)
    assert "Antwort: Abgelehnt" in everything and "Mehr Bänke" in everything
    only_answered = client.get(f"{url}?antwort=beantwortet").get_data(as_text=True)
    assert "Trinkbrunnen am Markt" in only_answered and "Mehr Bänke" not in only_answered
    unanswered = client.get(f"{url}?antwort=unbeantwortet").get_data(as_text=True)
    assert "Mehr Bänke" in unanswered and "Trinkbrunnen am Markt" not in unanswered
