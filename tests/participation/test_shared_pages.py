"""Signed-in readers share one rendering of a consultation's page and of a proposal's page (participation.shared_pages):
whoever renders first, nobody sees another reader's support, edit links, CSRF token, pending or hidden
contributions, and every change shows on the next request."""

from __future__ import annotations

import re
import secrets

import pytest
from itsdangerous import URLSafeTimedSerializer

from participation.services import comments, moderation, moderation_people, pseudonyms, supports, viewers
from portal.extensions import db
from tests.builders import csrf_from
from tests.participation import builders
from tests.participation.builders import actor, count_queries, make_comment, make_consultation, make_proposal
from tests.portal.audit.helpers import sign_in

BADGE = "Von Ihnen unterstützt"


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "PARTICIPATION_CACHE": True,
        "PARTICIPATION_CACHE_PREFIX": f"test:participation:{secrets.token_hex(4)}",
    }


def _signed_in(app, *users):
    clients = []
    for user in users:
        client = app.test_client()
        sign_in(client, user)
        clients.append(client)
    return clients


def _text(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    text = response.get_data(as_text=True)
    assert not re.search(r"support-[0-9a-f]{32}-\d+;", text)  # no slot left unfilled
    return text


def _tokens(app, html):
    """The session tokens behind the page's signed CSRF tokens (those differ by their time stamp)."""
    signed = set(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html))
    signed |= set(re.findall(r'value="([^"]+)"[^>]*name="csrf_token"', html))
    serializer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    return {serializer.loads(token) for token in signed}


def _card(html, proposal):
    return html.split(f'id="vorschlag-{proposal.reference}"')[1].split("</article>")[0]


@pytest.mark.parametrize("read_ahead", [100, 0], ids=["supports-with-facts", "supports-of-the-page"])
@pytest.mark.parametrize("first", ["anna", "ben"])
def test_each_reader_sees_only_their_own_supports_and_csrf_token_on_the_list_and_the_proposal(
    app, world, first, read_ahead, monkeypatch
):
    # read_ahead 0: anyone supporting anything counts as supporting very many, and the list asks for its own ids
    monkeypatch.setattr(viewers, "SUPPORTS_READ_AHEAD", read_ahead)
    consultation = make_consultation(world)
    liked = make_proposal(world, consultation, world.newcomer, title="Bänke", pseudonym="Nele")
    other = make_proposal(world, consultation, world.newcomer, title="Brunnen")
    supports.support(actor(world.anna), liked.id)
    anna, ben = _signed_in(app, world.anna, world.ben)
    clients = {"anna": anna, "ben": ben}
    order = [first, *(n for n in clients if n != first)]
    list_url = f"/beteiligung/{consultation.slug}"
    proposal_url = f"{list_url}/vorschlaege/{liked.reference}"

    for _round in range(2):  # rendered, then from the store
        lists = {name: _text(clients[name], list_url) for name in order}
        assert BADGE in _card(lists["anna"], liked) and BADGE not in _card(lists["anna"], other)
        assert BADGE not in lists["ben"]
        pages = {name: _text(clients[name], proposal_url) for name in order}
        assert "Sie unterstützen diesen Vorschlag." in pages["anna"] and "zurückziehen" in pages["anna"]
        assert "Sie unterstützen diesen Vorschlag." not in pages["ben"] and "Vorschlag unterstützen" in pages["ben"]
        tokens = {name: _tokens(app, lists[name]) | _tokens(app, pages[name]) for name in order}
        assert len(tokens["anna"]) == 1 and len(tokens["ben"]) == 1 and tokens["anna"] != tokens["ben"]

    # Ben's token is his: his support form takes it, and the change shows on everyone's next request.
    token = csrf_from(_text(ben, proposal_url))
    assert ben.post(f"{proposal_url}/unterstuetzen", data={"csrf_token": token}).status_code in (302, 303)
    assert BADGE in _card(_text(ben, list_url), liked) and "2 Personen unterstützen" in _text(anna, proposal_url)
    assert BADGE not in _card(_text(anna, list_url), other)


def test_a_stored_page_is_served_with_few_statements_and_the_same_html(app, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    make_comment(world, consultation, user=world.anna, proposal_id=proposal.id, body="Annas Gedanke")
    make_comment(world, consultation, user=world.anna, body="Zum Verfahren")
    (ben,) = _signed_in(app, world.ben)
    supports.support(actor(world.ben), proposal.id)
    # the session with the account, the consultation with the reader's facts for the page (on the list with the
    # supports it shows), on a proposal's page the proposal with the reader's support
    for url, expected in (
        (f"/beteiligung/{consultation.slug}", 2),
        (f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}", 3),
    ):
        first = _text(ben, url)
        db.session.remove()  # each request starts with an empty session, as under gunicorn
        with count_queries() as statements:
            again = _text(ben, url)
        assert again == first and len(statements) == expected, statements
    assert BADGE in _card(_text(ben, f"/beteiligung/{consultation.slug}"), proposal)


def test_an_authors_edit_link_and_pending_proposal_stay_with_them(app, world):
    consultation = make_consultation(world, premoderation=True)
    published = make_proposal(world, consultation, world.ben, title="Veröffentlicht")
    moderation.publish(actor(world.manager), "proposal", published.id)
    list_url = f"/beteiligung/{consultation.slug}"
    proposal_url = f"{list_url}/vorschlaege/{published.reference}"
    anna, ben, newcomer = _signed_in(app, world.anna, world.ben, world.newcomer)
    _text(newcomer, list_url), _text(newcomer, proposal_url)  # stored before anything of Anna's exists

    make_proposal(world, consultation, world.anna, title="Annas wartender Vorschlag")
    comment = make_comment(world, consultation, user=world.anna, proposal_id=published.id, body="Annas Kommentar")
    moderation.publish(actor(world.manager), "comment", comment.id)
    for client in (anna, ben, newcomer, anna):
        _text(client, list_url), _text(client, proposal_url)
    assert "Annas wartender Vorschlag" in _text(anna, list_url)
    assert "Bearbeiten" in _text(anna, proposal_url)
    for client in (ben, newcomer):
        assert "Annas wartender Vorschlag" not in _text(client, list_url)
        page = _text(client, proposal_url)
        assert "Annas Kommentar" in page and "Bearbeiten" not in page


def test_a_hidden_comment_shows_its_notice_to_its_author_only_and_at_once(app, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation, world.newcomer, pseudonym="Nele")
    comment = make_comment(world, consultation, user=world.anna, proposal_id=proposal.id, body="Zu weit gegangen")
    url = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    anna, ben = _signed_in(app, world.anna, world.ben)
    assert "Zu weit gegangen" in _text(ben, url)

    moderation.hide(actor(world.manager), "comment", comment.id, reason="spam")
    seen = {client: _text(client, url) for client in (ben, anna)}
    assert "Zu weit gegangen" not in seen[ben] and "von der Moderation ausgeblendet" in seen[ben]
    assert "Warum ausgeblendet?" in seen[anna] and "Warum ausgeblendet?" not in seen[ben]


def test_a_new_comment_a_support_and_a_block_show_on_the_next_request(app, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation, world.newcomer, pseudonym="Nele")
    list_url = f"/beteiligung/{consultation.slug}"
    url = f"{list_url}/vorschlaege/{proposal.reference}"
    anna, ben = _signed_in(app, world.anna, world.ben)
    for client in (anna, ben):
        _text(client, list_url), _text(client, url)

    make_comment(world, consultation, user=world.newcomer, proposal_id=proposal.id, body="Frisch geschrieben")
    make_comment(world, consultation, user=world.newcomer, body="Frisch zum Verfahren")
    assert "Frisch geschrieben" in _text(ben, url) and "Frisch zum Verfahren" in _text(ben, list_url)

    supports.support(actor(world.anna), proposal.id)
    assert "1 Person unterstützt" in _text(ben, url) and BADGE in _text(anna, list_url)
    assert BADGE not in _text(ben, list_url)
    supports.withdraw(actor(world.anna), proposal.id)
    assert BADGE not in _text(anna, list_url)

    own = make_comment(world, consultation, user=world.ben, proposal_id=proposal.id, body="Bens Ausrutscher")
    moderator = builders.make_person("moritz@stadt.example", roles=("moderator",))
    moderation_people.block_author(actor(moderator), "comment", own.id, days=3, reason="Beleidigung")
    blocked, other = _text(ben, url), _text(anna, url)
    assert "gesperrt" in blocked and 'name="body"' not in blocked
    assert "gesperrt" not in other and 'name="body"' in other


def test_the_comment_form_asks_for_a_pseudonym_only_those_without_one(app, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    url = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    ben, newcomer = _signed_in(app, world.ben, world.newcomer)
    for _round in range(2):
        assert 'name="pseudonym"' not in _text(ben, url)
        assert 'name="pseudonym"' in _text(newcomer, url)


def test_a_flashed_message_shows_once_on_a_shared_page(app, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    url = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    (ben,) = _signed_in(app, world.ben)
    _text(ben, url)
    with ben.session_transaction() as session:
        session["_flashes"] = [("success", "Eine Nachricht nur für Ben")]
    assert "Eine Nachricht nur für Ben" in _text(ben, url)
    assert "Eine Nachricht nur für Ben" not in _text(ben, url)
    (newcomer,) = _signed_in(app, builders.make_person("noch@example.org"))
    assert "Eine Nachricht nur für Ben" not in _text(newcomer, url)


def test_editing_a_comment_shows_to_other_signed_in_readers_at_once(app, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation, world.newcomer, pseudonym="Nele")
    comment = make_comment(world, consultation, user=world.anna, proposal_id=proposal.id, body="Erste Fassung")
    url = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    (ben,) = _signed_in(app, world.ben)
    assert "Erste Fassung" in _text(ben, url)
    comments.edit_comment(actor(world.anna), comment.id, body="Zweite Fassung")
    assert "Zweite Fassung" in _text(ben, url)


@pytest.mark.parametrize("manager_first", [True, False])
def test_the_staffs_links_in_the_header_stay_with_staff(app, world, manager_first):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    pseudonyms.choose(actor(world.manager), "Mara Planung")  # otherwise her comment form already differs
    url = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    manager, ben = _signed_in(app, world.manager, world.ben)
    for client in (manager, ben) if manager_first else (ben, manager):
        _text(client, url)
    assert "Meine Arbeit" in _text(manager, url) and "Meine Arbeit" not in _text(ben, url)
