"""The citizens' pages to take part: proposing (errors next to the fields, similar proposals first, the name to
appear under, a place without JavaScript), supporting and withdrawing by POST, commenting, replying and editing,
the rules' refusals outside a phase, and "Meine Beteiligung"."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from participation.models import Comment, Proposal, Support
from participation.services import consultations
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import csrf_from
from tests.participation.builders import (
    DAY,
    actor,
    fresh,
    make_comment,
    make_consultation,
    make_proposal,
    set_created_at,
)
from tests.portal.audit.helpers import sign_in


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _post(client, url: str, data: dict | None = None, page: str = "/beteiligung/"):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def _proposals() -> list[Proposal]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Proposal).order_by(Proposal.id)))


def _comments() -> list[Comment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Comment).order_by(Comment.id)))


# --- proposing ------------------------------------------------------------------------------------------------


def test_a_proposal_is_submitted_and_confirmed_with_its_reference(client, world):
    consultation = make_consultation(world, categories=["Grün", "Verkehr"], support_threshold=30)
    sign_in(client, world.anna)
    url = f"/beteiligung/{consultation.slug}/vorschlag"

    form = _text(client.get(url))
    response = _post(client, url, {"title": "Trinkbrunnen aufstellen", "body": "Im Sommer.", "category": "Grün"}, url)

    assert 'name="pseudonym"' not in form  # Anna has her name already
    assert '<option value="Grün">Grün</option>' in form
    [proposal] = _proposals()
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}/eingereicht"
    )
    done = _text(client.get(response.headers["Location"]))
    assert f'Ihre Vorgangsnummer: <strong class="nowrap">{proposal.reference}</strong>' in done
    assert "Ihr Vorschlag ist veröffentlicht." in done and "Ab 30 Unterstützungen" in done
    assert (proposal.title, proposal.category, proposal.author_id) == ("Trinkbrunnen aufstellen", "Grün", world.anna.id)


def test_errors_come_back_next_to_their_fields_with_what_was_typed(client, world):
    consultation = make_consultation(world)
    sign_in(client, world.anna)
    url = f"/beteiligung/{consultation.slug}/vorschlag"

    response = _post(client, url, {"title": "", "body": "Mein <b>langer</b> Text", "place-coordinates": "0, 0",
                                   "place-nojs": "1"}, url)  # fmt: skip

    html = _text(response)
    assert response.status_code == 422
    assert "Bitte korrigieren Sie Ihre Eingaben" in html
    assert 'href="#title">Titel Ihres Vorschlags: Geben Sie einen Titel an.</a>' in html
    assert re.search(r'<p class="kern-error" id="title-error">.*?Geben Sie einen Titel an\.', html)
    assert re.search(r'<p class="kern-error" id="place-error">', html)
    assert "Mein &lt;b&gt;langer&lt;/b&gt; Text</textarea>" in html
    assert 'value="0, 0"' in html
    assert html.startswith("<!doctype html>") and "<title>Fehler: Vorschlag einreichen" in html
    assert _proposals() == []


def test_similar_proposals_are_shown_first_and_trotzdem_einreichen_submits(client, world):
    consultation = make_consultation(world)
    existing = make_proposal(world, consultation, world.ben, title="Mehr Bäume auf dem Altmarkt pflanzen")
    sign_in(client, world.anna)
    url = f"/beteiligung/{consultation.slug}/vorschlag"
    typed = {"title": "Bäume für den Altmarkt", "body": "Schatten!"}

    check = _post(client, url, typed, url)
    html = _text(check)

    assert check.status_code == 200 and _proposals() == [existing]
    assert "Ähnliche Vorschläge gibt es schon" in html
    assert f'href="/beteiligung/{consultation.slug}/vorschlaege/{existing.reference}"' in html
    assert 'name="trotzdem" value="1"' in html and "Trotzdem einreichen" in html
    assert 'value="Bäume für den Altmarkt"' in html and "Schatten!</textarea>" in html

    done = _post(client, url, {**typed, "trotzdem": "1"}, url)

    assert done.status_code == 303
    assert [p.title for p in _proposals()] == [existing.title, "Bäume für den Altmarkt"]


def test_a_first_proposal_asks_for_the_name_to_appear_under_and_refuses_a_taken_one(client, world):
    consultation = make_consultation(world)
    sign_in(client, world.newcomer)
    url = f"/beteiligung/{consultation.slug}/vorschlag"

    form = _text(client.get(url))
    taken = _post(client, url, {"title": "Sitzbänke", "body": "Zum Ausruhen.", "pseudonym": "anna aktiv"}, url)
    chosen = _post(client, url, {"title": "Sitzbänke", "body": "Zum Ausruhen.", "pseudonym": "Nina N."}, url)

    assert 'name="pseudonym"' in form and "Ihr Name in der Beteiligung" in form
    assert taken.status_code == 409
    assert re.search(r'id="pseudonym-error">.*?Diesen Namen hat schon jemand gewählt\.', _text(taken))
    assert 'value="Sitzbänke"' in _text(taken)
    assert chosen.status_code == 303
    assert "von Nina N. am" in _text(client.get(chosen.headers["Location"].removesuffix("/eingereicht")))


def test_a_place_is_given_by_coordinates_without_javascript(client, world):
    consultation = make_consultation(world)
    sign_in(client, world.anna)
    url = f"/beteiligung/{consultation.slug}/vorschlag"

    form = _text(client.get(url))
    response = _post(client, url, {"title": "Ampel", "body": "Hier fehlt eine Ampel.",
                                   "place-coordinates": "51.0504, 13.7373", "place-nojs": "1"}, url)  # fmt: skip

    assert 'name="place-coordinates"' in form and 'name="place-address"' in form
    assert response.status_code == 303
    [proposal] = _proposals()
    assert (round(proposal.lat, 4), round(proposal.lon, 4)) == (51.0504, 13.7373)


def test_in_a_premoderated_consultation_the_confirmation_says_it_waits(client, world):
    consultation = make_consultation(world, premoderation=True)
    sign_in(client, world.anna)
    url = f"/beteiligung/{consultation.slug}/vorschlag"

    response = _post(client, url, {"title": "Wasserspiel", "body": "Für Kinder."}, url)

    assert "Die Moderation prüft Ihren Vorschlag" in _text(client.get(response.headers["Location"]))


def test_proposing_outside_its_phase_shows_the_rules_refusal_instead_of_the_form(client, world):
    consultation = make_consultation(world, phases=[("comments", -DAY, 5 * DAY), ("proposals", 5 * DAY, 9 * DAY)])
    url = f"/beteiligung/{consultation.slug}/vorschlag"
    sign_in(client, world.anna)

    page = _text(client.get(url))
    refused = _post(client, url, {"title": "Zu früh", "body": "Noch nicht dran."}, url)

    assert "Vorschläge einreichen ist ab dem" in page and 'name="title"' not in page
    assert refused.status_code == 409 and "Vorschläge einreichen ist ab dem" in _text(refused)
    assert _proposals() == []


def test_signed_out_people_are_asked_to_sign_in_to_propose(client, world):
    consultation = make_consultation(world)
    url = f"/beteiligung/{consultation.slug}/vorschlag"

    html = _text(client.get(url))

    assert "Bitte melden Sie sich an, um mitzumachen." in html
    assert f'href="/anmelden?next={url}"' in html and 'name="title"' not in html


# --- support --------------------------------------------------------------------------------------------------


def test_support_and_withdraw_by_post(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    page = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    sign_in(client, world.ben)

    before = _text(client.get(page))
    supported = _post(client, f"{page}/unterstuetzen", page=page)
    after = _text(client.get(page))
    again = _post(client, f"{page}/unterstuetzen", page=page)
    repeated = _text(client.get(page))
    withdrawn = _post(client, f"{page}/unterstuetzung-zurueckziehen", page=page)
    finally_ = _text(client.get(page))

    assert "Vorschlag unterstützen" in before and "0 Personen unterstützen" in before
    assert supported.status_code == 303 and supported.headers["Location"].endswith(f"{page}#unterstuetzung")
    assert "Sie unterstützen diesen Vorschlag." in after and "Unterstützung zurückziehen" in after
    assert "1 Person unterstützt diesen Vorschlag." in after
    assert again.status_code == 303 and "Sie unterstützen diesen Vorschlag schon." in repeated
    assert "1 Person unterstützt diesen Vorschlag." in repeated
    assert withdrawn.status_code == 303 and "Sie haben Ihre Unterstützung zurückgezogen." in finally_
    assert "0 Personen unterstützen" in finally_ and fresh(proposal).support_count == 0
    assert db.session.scalar(sa.select(sa.func.count(Support.id))) == 0


def test_support_outside_its_phase_shows_the_rules_message_and_a_post_changes_nothing(client, world):
    consultation = make_consultation(world, phases=[("proposals", -5 * DAY, -DAY), ("information", -DAY, 5 * DAY)])
    proposal = Proposal(consultation_id=consultation.id, reference="VOR-2026-999999", author_id=world.anna.id,
                        title="Altes", body="Aus der Vorschlagsphase")  # fmt: skip
    db.session.add(proposal)
    db.session.commit()
    page = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    sign_in(client, world.ben)

    html = _text(client.get(page))
    refused = _post(client, f"{page}/unterstuetzen", page=page)

    assert "Vorschläge unterstützen war bis zum" in html and "Vorschlag unterstützen</span>" not in html
    assert refused.status_code == 303
    assert "Vorschläge unterstützen war bis zum" in _text(client.get(page))
    assert fresh(proposal).support_count == 0


def test_supporting_needs_sign_in(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    page = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"

    # Signed out, the proposal's page has no form (and so no token): a valid token comes from the sign-in form.
    assert client.get(page).status_code == 200
    response = _post(client, f"{page}/unterstuetzen", page="/anmelden")

    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]
    assert fresh(proposal).support_count == 0


def test_a_post_without_csrf_token_is_refused(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    sign_in(client, world.ben)

    response = client.post(f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}/unterstuetzen")

    assert response.status_code == 400 and fresh(proposal).support_count == 0


# --- comments -------------------------------------------------------------------------------------------------


def test_comment_with_stance_then_reply_twice_and_no_further(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    page = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    sign_in(client, world.ben)

    first = _post(client, f"{page}/kommentieren", {"body": "Sehr gut!", "stance": "pro"}, page)
    [top] = _comments()
    reply = _post(client, f"/beteiligung/kommentare/{top.id}/antworten", {"body": "Finde ich auch."}, page)
    answer_to = _comments()[-1]
    deeper = _post(client, f"/beteiligung/kommentare/{answer_to.id}/antworten", {"body": "Danke."}, page)
    deepest = _comments()[-1]

    assert first.status_code == 303 and first.headers["Location"].endswith(
        f"/beteiligung/kommentare/{top.id}#kommentar-{top.id}"
    )
    assert (top.stance, top.proposal_id, top.depth) == ("pro", proposal.id, 0)
    assert reply.status_code == 303 and deeper.status_code == 303
    assert (answer_to.depth, deepest.depth) == (1, 2)
    html = _text(client.get(page))
    assert "Sehr gut!" in html and "dafür</span>" in html and "Finde ich auch." in html and "Danke." in html
    for comment in (top, answer_to):
        assert f'href="/beteiligung/kommentare/{comment.id}#antworten">Antworten' in html
    assert f'href="/beteiligung/kommentare/{deepest.id}#antworten">Antworten' not in html
    end = _text(client.get(f"/beteiligung/kommentare/{deepest.id}"))
    assert "Auf diese Antwort kann nicht weiter geantwortet werden." in end and 'name="body"' not in end


def test_a_comment_with_errors_comes_back_on_its_page_with_the_stance_kept(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    page = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    sign_in(client, world.ben)

    response = _post(client, f"{page}/kommentieren", {"body": "  ", "stance": "contra"}, page)

    html = _text(response)
    assert response.status_code == 422
    assert 'href="#body">Ihr Kommentar: Schreiben Sie Ihren Kommentar.</a>' in html
    assert re.search(r'<input checked class="kern-form-check__radio" id="stance-2"[^>]*value="contra">', html)
    assert "Mehr Bäume am Altmarkt" in html and _comments() == []


def test_the_first_comment_of_a_newcomer_asks_for_their_name(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    page = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    sign_in(client, world.newcomer)

    nameless = _post(client, f"{page}/kommentieren", {"body": "Hallo"}, page)
    named = _post(client, f"{page}/kommentieren", {"body": "Hallo", "pseudonym": "Nina aus Neustadt"}, page)

    assert nameless.status_code == 422
    assert re.search(r'id="pseudonym-error">.*?Wählen Sie einen Namen', _text(nameless))
    assert named.status_code == 303
    assert "Nina aus Neustadt" in _text(client.get(page)) and "Nina Neu" not in _text(client.get(page))


def test_commenting_outside_its_phase_is_refused_with_the_rules_message(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    consultations.close(actor(world.manager), consultation.id)
    page = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    sign_in(client, world.ben)

    html = _text(client.get(page))
    response = _post(client, f"{page}/kommentieren", {"body": "Zu spät"}, page)

    assert "Dieses Beteiligungsverfahren ist abgeschlossen." in html and 'name="body"' not in html
    assert response.status_code == 409
    assert "Dieses Beteiligungsverfahren ist abgeschlossen." in _text(response) and _comments() == []


def test_comments_on_the_consultation_itself_while_commenting_is_open(client, world):
    consultation = make_consultation(world, phases=[("comments", -DAY, 5 * DAY)])
    page = f"/beteiligung/{consultation.slug}"
    sign_in(client, world.anna)

    before = _text(client.get(page))
    response = _post(client, f"{page}/kommentieren", {"body": "Gute Sache insgesamt.", "stance": "neutral"}, page)

    assert "Kommentare zum Verfahren" in before and "Kommentar veröffentlichen" in before
    assert response.status_code == 303
    [comment] = _comments()
    assert (comment.proposal_id, comment.stance) == (None, "neutral")
    assert "Gute Sache insgesamt." in _text(client.get(page))


def test_a_guest_comments_under_a_name_and_waits_for_moderation(client, world):
    consultation = make_consultation(world, audience="guests", phases=[("comments", -DAY, 5 * DAY)])
    page = f"/beteiligung/{consultation.slug}"

    form = _text(client.get(page))
    response = _post(client, f"{page}/kommentieren", {"body": "Als Anwohner: ja!", "guest_name": "Gustav"}, page)

    assert 'name="guest_name"' in form and 'name="pseudonym"' not in form
    assert response.status_code == 303
    [comment] = _comments()
    assert (comment.guest_name, comment.state, comment.author_id) == ("Gustav", "pending", None)
    assert "Ihr Beitrag erscheint, sobald die Moderation ihn freigegeben hat." in _text(client.get(page))
    assert "Als Anwohner" not in _text(client.get(page))


def test_its_author_edits_a_comment_within_the_window_and_not_after(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    comment = make_comment(world, consultation, proposal_id=proposal.id, body="Erste Fassung", stance="pro")
    url = f"/beteiligung/kommentare/{comment.id}/bearbeiten"
    page = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    sign_in(client, world.anna)

    listed = _text(client.get(page))
    form = _text(client.get(url))
    saved = _post(client, url, {"body": "Zweite Fassung", "stance": "neutral"}, url)
    set_created_at(comment, utcnow() - timedelta(minutes=16))
    late_form = _text(client.get(url))
    late = _post(client, url, {"body": "Dritte Fassung"}, page)

    assert f'href="{url}">Bearbeiten' in listed
    assert "Erste Fassung</textarea>" in form
    assert saved.status_code == 303
    assert (fresh(comment).body, fresh(comment).stance) == ("Zweite Fassung", "neutral")
    assert "bearbeitet" in _text(client.get(page)) and f'href="{url}">Bearbeiten' not in _text(client.get(page))
    assert "Kommentare können nur in den ersten 15 Minuten bearbeitet werden." in late_form
    assert 'name="body"' not in late_form
    assert late.status_code == 409 and fresh(comment).body == "Zweite Fassung"


def test_nobody_else_may_edit_a_comment(client, world):
    consultation = make_consultation(world)
    comment = make_comment(world, consultation)
    sign_in(client, world.ben)

    assert client.get(f"/beteiligung/kommentare/{comment.id}/bearbeiten").status_code == 403


# --- Meine Beteiligung ----------------------------------------------------------------------------------------


def test_meine_beteiligung_lists_own_proposals_and_comments_and_is_linked_from_mein_konto(client, world):
    consultation = make_consultation(world, premoderation=True)
    other = make_consultation(world, title="Radverkehr")
    mine = make_proposal(world, consultation, title="Mein wartender Vorschlag")
    theirs = make_proposal(world, other, world.ben, title="Fremder Vorschlag")
    make_comment(world, other, proposal_id=theirs.id, body="Mein Kommentar dazu")
    make_comment(world, other, world.ben, body="Fremder Kommentar")
    sign_in(client, world.anna)

    html = _text(client.get("/konto/beteiligung"))

    assert 'href="/konto/beteiligung">Meine Beteiligung</a>' in _text(client.get("/konto/"))
    assert "„Anna Aktiv“" in html
    assert "Mein wartender Vorschlag" in html and mine.reference in html and "wartet auf Freigabe" in html
    assert "Mein Kommentar dazu" in html and "Fremder Vorschlag" in html  # the proposal it is about
    assert "Fremder Kommentar" not in html
