"""The draft-text pages: the whole draft with each paragraph's comment count, a paragraph with its thread (paged)
and its comment form, replying on a paragraph comment's own page, and the managers' paste editor."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from participation.models import Comment
from participation.models_surveys import DraftParagraph
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import csrf_from
from tests.participation.builders import DAY, World, fresh, make_comment, make_consultation
from tests.participation.survey_builders import make_draft
from tests.portal.audit.helpers import sign_in

XSS = '<img src=x onerror="alert(1)">'


@pytest.fixture
def staff(world: World) -> World:
    world.manager.totp_enabled_at = utcnow()
    db.session.commit()
    return world


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _post(client, url: str, data: dict, page: str):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_the_draft_page_shows_each_paragraph_with_its_comment_count(client, world):
    consultation, paragraphs = make_draft(world)
    make_comment(world, consultation, paragraph_id=paragraphs[1].id)
    make_comment(world, consultation, world.ben, paragraph_id=paragraphs[1].id)

    html = _text(client.get(f"/beteiligung/{consultation.slug}/entwurf"))

    assert '<h2 class="kern-heading-small">§ 1 Geltungsbereich</h2>' in html
    assert '<h2 class="kern-heading-small">Absatz 3</h2>' in html  # the unnumbered "(2) Hunde …"
    link = f"/beteiligung/{consultation.slug}/entwurf/{paragraphs[1].id}#kommentare"
    assert f'href="{link}">2 Kommentare<span class="kern-sr-only"> – § 2 Nutzung</span></a>' in html
    assert "Bitte melden Sie sich an" in html  # commenting needs an account
    consultation_page = _text(client.get(f"/beteiligung/{consultation.slug}"))
    assert (
        f'href="/beteiligung/{consultation.slug}/entwurf">Den Entwurf lesen und Absatz für Absatz' in consultation_page
    )


def test_a_paragraph_is_commented_on_its_page_and_the_comment_is_counted_and_listed(client, world):
    consultation, paragraphs = make_draft(world)
    paragraph = paragraphs[0]
    sign_in(client, world.anna)
    url = f"/beteiligung/{consultation.slug}/entwurf/{paragraph.id}"

    form = _text(client.get(url))
    response = _post(client, url + "/kommentieren", {"body": "Auch für Friedhöfe?", "stance": "neutral"}, url)

    [comment] = db.session.scalars(sa.select(Comment)).all()
    assert "Diesen Absatz kommentieren" in form and 'action="' + url + '/kommentieren"' in form
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/beteiligung/kommentare/{comment.id}#kommentar-{comment.id}")
    assert comment.paragraph_id == paragraph.id and fresh(paragraph).comment_count == 1
    page = _text(client.get(url))
    assert "Kommentare zu diesem Absatz (1)" in page and "Auch für Friedhöfe?" in page
    assert "<strong>Anna Aktiv</strong>" in page
    own = _text(client.get(f"/beteiligung/kommentare/{comment.id}"))
    assert f'href="{url}#kommentare"' in own and "Zum Absatz des Entwurfs" in own


def test_replying_to_a_paragraph_comment_follows_the_draft_phase(client, world):
    consultation, paragraphs = make_draft(world)
    top = make_comment(world, consultation, world.ben, paragraph_id=paragraphs[0].id)
    sign_in(client, world.anna)
    page = f"/beteiligung/kommentare/{top.id}"

    html = _text(client.get(page))
    response = _post(client, page + "/antworten", {"body": "Sehe ich auch so."}, page)

    assert "Antwort schreiben" in html  # the comment's page asks the draft phase's rule
    assert response.status_code == 303
    assert fresh(paragraphs[0]).comment_count == 2


def test_a_comment_with_markup_comes_back_escaped_and_errors_stay_on_the_paragraph_page(client, world):
    consultation, paragraphs = make_draft(world, text=f"§ 1 Titel {XSS}\nText mit {XSS}")
    paragraph = paragraphs[0]
    sign_in(client, world.anna)
    url = f"/beteiligung/{consultation.slug}/entwurf/{paragraph.id}"

    empty = _post(client, url + "/kommentieren", {"body": "  "}, url)
    _post(client, url + "/kommentieren", {"body": XSS}, url)
    html = _text(client.get(url))

    assert empty.status_code == 422 and "Schreiben Sie Ihren Kommentar." in _text(empty)
    assert XSS not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert html.count("&lt;img") == 4  # the page title, the heading, the text, the comment


def test_outside_the_draft_phase_the_paragraph_page_says_when_and_a_post_is_refused(client, world):
    consultation, paragraphs = make_draft(world, start=2 * DAY, end=5 * DAY)
    sign_in(client, world.anna)
    url = f"/beteiligung/{consultation.slug}/entwurf/{paragraphs[0].id}"

    html = _text(client.get(url))
    refused = _post(client, url + "/kommentieren", {"body": "Zu früh."}, url)

    assert "Den Entwurf kommentieren ist ab dem " in html and "<textarea" not in html
    assert refused.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0


def test_a_paragraphs_thread_pages_by_cursor(client, world):
    consultation, paragraphs = make_draft(world)
    for i in range(21):
        make_comment(world, consultation, paragraph_id=paragraphs[0].id, body=f"Anmerkung Nummer {i}")
    url = f"/beteiligung/{consultation.slug}/entwurf/{paragraphs[0].id}"

    first = _text(client.get(url))
    more = re.search(r'href="([^"]*kommentare=[^"#]+)#kommentare">Weitere Kommentare', first)
    second = _text(client.get(more.group(1).replace("&amp;", "&")))

    assert "Anmerkung Nummer 19" in first and "Anmerkung Nummer 20" not in first
    assert "Anmerkung Nummer 20" in second and "Anmerkung Nummer 0<" not in second
    assert client.get(url + "?kommentare=kaputt").status_code == 400


def test_a_paragraph_of_another_consultation_is_not_found_at_this_address(client, world):
    consultation, _ = make_draft(world)
    _, elsewhere = make_draft(world)

    assert client.get(f"/beteiligung/{consultation.slug}/entwurf/{elsewhere[0].id}").status_code == 404


def test_the_manager_pastes_the_draft_and_sees_its_paragraphs(client, staff):
    consultation = make_consultation(staff, phases=[("draft", 2 * DAY, 5 * DAY)], publish=False)
    sign_in(client, staff.manager)
    url = f"/admin/beteiligung/{consultation.id}/entwurf"

    response = _post(client, url, {"text": "§ 1 Zweck\nDer Zweck.\n\n§ 2 Ende\nDas Ende."}, url)
    html = _text(client.get(url))

    assert response.status_code == 303
    assert "Der Entwurf ist gespeichert: 2 Absätze." in html
    assert '<h3 class="kern-heading-small">§ 2 Ende</h3>' in html
    assert "§ 1 Zweck\nDer Zweck." in client.get(url).get_data(as_text=True)  # the editor shows it again
    titles = db.session.scalars(sa.select(DraftParagraph.heading).order_by(DraftParagraph.position)).all()
    assert titles == ["Zweck", "Ende"]
    detail = _text(client.get(f"/admin/beteiligung/{consultation.id}"))
    assert f'href="{url}">Entwurf zum Kommentieren' in detail


def test_once_commenting_has_begun_the_managers_editor_is_read_only(client, staff):
    consultation, _ = make_draft(staff)
    sign_in(client, staff.manager)
    url = f"/admin/beteiligung/{consultation.id}/entwurf"

    html = _text(client.get(url))
    refused = client.post(url, data={"csrf_token": csrf_from(html), "text": "Neu."})

    assert "Die Kommentierung hat begonnen" in html and "<textarea" not in html
    assert refused.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(DraftParagraph.id))) == 4


def test_a_draft_phase_without_a_text_yet_says_it_is_being_prepared(client, world):
    consultation = make_consultation(world, phases=[("draft", -DAY, DAY)])

    response = client.get(f"/beteiligung/{consultation.slug}/entwurf")

    assert response.status_code == 200
    assert "Der Entwurf wird noch vorbereitet." in _text(response)
