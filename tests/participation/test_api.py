"""The participation API: public reading with cursor pages, taking part with the session (and its CSRF token) or a
person's token, the rules' refusals as problem JSON, and no personal data in any answer."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from participation.models import Comment, Proposal
from participation.services import comments, consultations, moderation, pseudonyms, supports
from portal.actors import ANONYMOUS
from portal.extensions import db
from portal.timeutil import utcnow
from tests.participation.api_helpers import API, bearer, problem_of, signed_in
from tests.participation.builders import (
    DAY,
    World,
    actor,
    count_queries,
    make_comment,
    make_consultation,
    make_person,
    make_proposal,
    set_created_at,
)


def _walk(client, url: str, key: str = "id", **params) -> list:
    """Follow next_cursor from the first page to the last; the items' `key`s in the order served."""
    seen, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(url, query_string=query)
        assert response.status_code == 200, response.get_json()
        seen += [item[key] for item in response.json["items"]]
        cursor = response.json["next_cursor"]
        if cursor is None:
            return seen


# --- reading ----------------------------------------------------------------------------------------------------


def test_the_list_shows_public_consultations_by_status_district_and_topic(client, world):
    running = make_consultation(world, title="Altmarkt", district="Mitte", topic="Verkehr")
    make_consultation(world, title="Park", district="Nord", topic="Grün")
    later = make_consultation(world, title="Schulweg", phases=[("proposals", 5 * DAY, 9 * DAY)])
    ended = make_consultation(world, title="Radwege")
    consultations.close(actor(world.manager), ended.id)
    make_consultation(world, title="Geheimer Entwurf", publish=False)

    def titles(**query) -> list[str]:
        response = client.get(f"{API}/consultations", query_string=query)
        assert response.status_code == 200
        return [c["title"] for c in response.json["items"]]

    assert sorted(titles()) == ["Altmarkt", "Park"]
    assert titles(status="upcoming") == ["Schulweg"]
    assert titles(status="closed") == ["Radwege"]
    assert titles(district="Mitte") == titles(topic="Verkehr") == ["Altmarkt"]
    item = client.get(f"{API}/consultations", query_string={"district": "Mitte"}).json["items"][0]
    assert item["open_actions"] == ["comment", "propose", "support"]
    assert item["department"]["name"] == "Stadtplanungsamt"
    assert item["url"].endswith(f"{API}/consultations/{running.id}")
    assert client.get(f"{API}/consultations/{later.id}").json["your_actions"][0]["refusal"]["code"] == "phase_closed"


def test_a_consultation_shows_its_phases_and_what_the_viewer_may_do(client, world):
    consultation = make_consultation(
        world, phases=[("information", -DAY, DAY), ("proposals", DAY, 5 * DAY)], categories=["Grün"]
    )
    draft = make_consultation(world, title="Entwurf", publish=False)

    body = client.get(f"{API}/consultations/{consultation.id}").json
    assert [(p["kind"], p["current"]) for p in body["phases"]] == [("information", True), ("proposals", False)]
    assert body["open_actions"] == [] and body["categories"] == ["Grün"]
    refused = {a["action"]: a["refusal"]["code"] for a in body["your_actions"]}
    assert refused == {"propose": "phase_closed", "comment": "phase_closed", "support": "phase_closed"}
    assert "möglich" in body["your_actions"][0]["refusal"]["message"]
    problem_of(client.get(f"{API}/consultations/{draft.id}"), 404)


def test_the_proposal_list_walks_every_proposal_once_in_both_orders(client, world):
    consultation = make_consultation(world, categories=["Grün", "Verkehr"])
    made = [make_proposal(world, consultation, title=f"Vorschlag {n}", category="Grün") for n in range(13)]
    same_moment = utcnow() - timedelta(hours=1)
    for proposal in made[3:9]:  # ties on created_at must neither skip nor repeat
        set_created_at(proposal, same_moment)
    for proposal in made[:5]:
        supports.support(actor(world.ben), proposal.id)
    make_proposal(world, consultation, title="Radweg", category="Verkehr")
    url = f"{API}/consultations/{consultation.id}/proposals"

    newest = _walk(client, url, limit=4, category="Grün")
    supported = _walk(client, url, limit=3, sort="supported", category="Grün")

    expected = {p.id for p in made}
    assert len(newest) == len(set(newest)) == 13 and set(newest) == expected
    assert len(supported) == len(set(supported)) == 13 and set(supported) == expected
    assert supported[:5] == sorted((p.id for p in made[:5]), reverse=True)
    first = client.get(url, query_string={"limit": 1}).json["items"][0]
    assert (first["title"], first["author"], first["category"]) == ("Radweg", "Anna Aktiv", "Verkehr")


def test_a_proposal_shows_the_viewers_support_and_its_comments_nest_to_the_depth_rule(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    top = make_comment(world, consultation, proposal_id=proposal.id, body="Oben", stance="pro")
    replies = [make_comment(world, consultation, world.ben, parent_id=top.id, body=f"Antwort {n}") for n in range(4)]
    deepest = make_comment(world, consultation, parent_id=replies[0].id, body="Ganz unten")
    supports.support(actor(world.ben), proposal.id)

    assert client.get(f"{API}/proposals/{proposal.id}").json["supported"] is False
    signed_in(client, world.ben)
    shown = client.get(f"{API}/proposals/{proposal.id}").json
    assert (shown["supported"], shown["support_count"], shown["comment_count"]) == (True, 1, 6)
    page = client.get(f"{API}/proposals/{proposal.id}/comments", query_string={"replies": 3}).json
    [item] = page["items"]
    assert (item["text"], item["author"], item["stance"], item["depth"]) == ("Oben", "Anna Aktiv", "pro", 0)
    assert [r["text"] for r in item["replies"]] == ["Antwort 0", "Antwort 1", "Antwort 2"]
    assert item["more_replies"] is True
    assert item["replies"][0]["replies"][0]["text"] == "Ganz unten"
    assert item["replies"][0]["replies"][0]["replies_url"] is None  # no deeper level to page through
    all_replies = _walk(client, urlsplit(item["replies_url"]).path, key="text", limit=2)
    assert all_replies == ["Antwort 0", "Antwort 1", "Antwort 2", "Antwort 3"]
    assert client.get(f"{API}/comments/{deepest.id}").json["parent_id"] == replies[0].id


def test_comment_pages_walk_a_thread_without_gaps_or_duplicates(client, world):
    consultation = make_consultation(world)
    made = [make_comment(world, consultation, body=f"Nr. {n}").id for n in range(11)]
    assert _walk(client, f"{API}/consultations/{consultation.id}/comments", limit=4) == made


def test_a_hidden_comment_keeps_its_place_without_author_stance_or_text(client, world):
    consultation = make_consultation(world)
    hidden = make_comment(world, consultation, world.ben, body="Beleidigung", stance="contra")
    make_comment(world, consultation, parent_id=hidden.id, body="Antwort darauf")
    moderation.hide(actor(world.manager), "comment", hidden.id, reason="abuse")

    text = client.get(f"{API}/consultations/{consultation.id}/comments").get_data(as_text=True)
    [item] = json.loads(text)["items"]
    assert (item["hidden"], item["text"], item["author"], item["stance"]) == (True, None, None, None)
    assert item["replies"][0]["text"] == "Antwort darauf"
    assert "Beleidigung" not in text and "Ben Beteiligt" not in text


def test_a_pending_proposal_is_seen_by_its_author_only(client, world):
    consultation = make_consultation(world, premoderation=True)
    proposal = make_proposal(world, consultation)
    url = f"{API}/consultations/{consultation.id}/proposals"
    assert client.get(url).json["items"] == []
    problem_of(client.get(f"{API}/proposals/{proposal.id}"), 404)
    signed_in(client, world.anna)
    assert [(p["id"], p["state"], p["own"]) for p in client.get(url).json["items"]] == [(proposal.id, "pending", True)]


def test_the_comments_endpoint_costs_the_same_queries_for_10_and_300_comments(app, client, world):
    app.config["PARTICIPATION_CACHE"] = False  # the database's part; kept answers: test_cached_pages.py
    people = [make_person(f"p{n}@example.org") for n in range(6)]
    for n, person in enumerate(people):
        pseudonyms.choose(actor(person), f"Person {n}")
    consultation = make_consultation(world)
    small, big = make_proposal(world, consultation, title="Klein"), make_proposal(world, consultation, title="Groß")
    _thread(consultation.id, small.id, 10, people)
    _thread(consultation.id, big.id, 300, people)
    small_url, big_url = f"{API}/proposals/{small.id}/comments", f"{API}/proposals/{big.id}/comments"
    client.get(small_url)  # anything the first request of an app loads once

    db.session.remove()  # each request starts with an empty session, as in production
    with count_queries() as few:
        assert client.get(small_url).status_code == 200
    db.session.remove()
    with count_queries() as many:
        page = client.get(big_url).json

    assert len(page["items"]) == 20 and page["next_cursor"]
    assert [len(i["replies"]) for i in page["items"]] == [2] * 20
    # The proposal with its consultation and its author's name; the page with two levels of replies and their
    # authors' names: 2, however many comments.
    assert len(many) == len(few) <= 10, many


def _thread(consultation_id: int, proposal_id: int, size: int, people) -> None:
    """`size` comments on the proposal: groups of a top-level comment with two replies and a reply to the first
    reply, the rest top-level. Written as rows (this is about reading), with the counters the services keep."""
    where = {"consultation_id": consultation_id, "proposal_id": proposal_id}
    for n in range(size // 4):
        top = Comment(**where, depth=0, author_id=people[n % 6].id, body=f"Oben {n}", reply_count=2)
        db.session.add(top)
        db.session.flush()
        first = Comment(**where, parent_id=top.id, root_id=top.id, depth=1, author_id=people[(n + 1) % 6].id, body="A")
        second = Comment(**where, parent_id=top.id, root_id=top.id, depth=1, author_id=people[(n + 2) % 6].id, body="B")
        db.session.add_all([first, second])
        db.session.flush()
        first.reply_count = 1
        db.session.add(
            Comment(**where, parent_id=first.id, root_id=top.id, depth=2, author_id=people[n % 6].id, body="C")
        )
    for n in range(size % 4):
        db.session.add(Comment(**where, depth=0, author_id=people[n].id, body=f"Einzeln {n}"))
    db.session.commit()


# --- taking part ------------------------------------------------------------------------------------------------


def test_a_signed_in_person_proposes_comments_and_supports_with_the_csrf_token(client, world):
    consultation = make_consultation(world, categories=["Grün"])
    headers = signed_in(client, world.newcomer)
    propose = f"{API}/consultations/{consultation.id}/proposals"

    nameless = client.post(propose, json={"title": "Trinkbrunnen", "body": "Im Sommer."}, headers=headers)
    created = client.post(
        propose,
        json={"title": "Trinkbrunnen", "body": "Im Sommer.", "category": "Grün", "pseudonym": "Nina N."},
        headers=headers,
    )

    problem_of(nameless, 422, "pseudonym_required")
    assert created.status_code == 201, created.json
    proposal = created.json
    assert (proposal["author"], proposal["state"], proposal["own"]) == ("Nina N.", "published", True)
    assert proposal["reference"].startswith("VOR-")
    assert created.headers["Location"].endswith(f"{API}/proposals/{proposal['id']}")
    comment = client.post(
        f"{API}/proposals/{proposal['id']}/comments", json={"body": "Und schattig", "stance": "pro"}, headers=headers
    )
    assert comment.status_code == 201 and comment.json["author"] == "Nina N." and comment.json["depth"] == 0
    reply = client.post(
        f"{API}/consultations/{consultation.id}/comments",
        json={"body": "Ja", "parent_id": comment.json["id"]},
        headers=headers,
    )
    assert reply.status_code == 201 and reply.json["proposal_id"] == proposal["id"] and reply.json["depth"] == 1
    supported = client.post(f"{API}/proposals/{proposal['id']}/support", headers=headers)
    assert supported.json == {
        "proposal_id": proposal["id"],
        "supported": True,
        "support_count": 1,
        "answer_requested": False,
    }
    problem_of(client.post(f"{API}/proposals/{proposal['id']}/support", headers=headers), 409, "already_supported")
    withdrawn = client.delete(f"{API}/proposals/{proposal['id']}/support", headers=headers)
    assert (withdrawn.json["supported"], withdrawn.json["support_count"]) == (False, 0)
    problem_of(client.delete(f"{API}/proposals/{proposal['id']}/support", headers=headers), 409, "not_supported")


def test_a_cookie_request_without_the_csrf_token_changes_nothing(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    signed_in(client, world.ben)
    problem_of(client.post(f"{API}/proposals/{proposal.id}/support"), 400)
    assert db.session.scalar(sa.select(Proposal.support_count).where(Proposal.id == proposal.id)) == 0


def test_a_persons_token_takes_part_as_that_person_and_other_tokens_do_not(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    url = f"{API}/proposals/{proposal.id}/support"

    assert client.post(url, headers=bearer(world.manager)).json["support_count"] == 1
    problem_of(client.post(url, headers=bearer(world.admin, scopes=("audit",))), 403)
    problem_of(client.post(url, headers=bearer(None)), 403, "person_required")
    assert db.session.scalar(sa.select(Proposal.support_count).where(Proposal.id == proposal.id)) == 1


def test_every_write_without_a_session_or_token_answers_401(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    for method, url in [
        ("post", f"{API}/consultations/{consultation.id}/proposals"),
        ("post", f"{API}/consultations/{consultation.id}/comments"),
        ("post", f"{API}/proposals/{proposal.id}/comments"),
        ("post", f"{API}/proposals/{proposal.id}/support"),
        ("delete", f"{API}/proposals/{proposal.id}/support"),
    ]:
        response = getattr(client, method)(url, json={"body": "Hallo", "title": "Hallo"})
        problem_of(response, 401)
        assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0


def test_outside_its_phase_an_action_is_refused_with_the_rules_code_and_message(client, world):
    consultation = make_consultation(world, phases=[("information", -DAY, DAY), ("proposals", DAY, 5 * DAY)])
    headers = signed_in(client, world.anna)

    body = problem_of(
        client.post(
            f"{API}/consultations/{consultation.id}/proposals", json={"title": "X", "body": "Y"}, headers=headers
        ),
        409,
        "phase_closed",
    )
    assert re.match(r"Vorschläge einreichen ist ab dem \d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr möglich\.", body["detail"])
    assert body["errors"] == {"action": [body["detail"]]}
    assert body["type"].endswith("participation-phase_closed")
    comment = client.post(f"{API}/consultations/{consultation.id}/comments", json={"body": "Y"}, headers=headers)
    problem_of(comment, 409, "phase_closed")


def test_a_verified_only_consultation_refuses_an_unverified_person_with_403(client, world):
    consultation = make_consultation(world, audience="verified")
    headers = signed_in(client, world.anna)
    response = client.post(f"{API}/consultations/{consultation.id}/comments", json={"body": "Hallo"}, headers=headers)
    problem_of(response, 403, "verified_required")


# --- no personal data -------------------------------------------------------------------------------------------


def test_no_answer_names_an_account_its_email_or_its_id(client, world: World):
    consultation = make_consultation(
        world, audience="guests", contact_name="Amt", contact_email="beteiligung@stadt.example"
    )
    proposal = make_proposal(world, consultation)
    top = make_comment(world, consultation, world.ben, proposal_id=proposal.id)
    guest = comments.create_comment(ANONYMOUS, consultation.id, body="Als Gast", guest_name="Gisela")
    moderation.publish(actor(world.manager), "comment", guest.id)
    headers = signed_in(client, world.anna)
    urls = [
        f"{API}/consultations",
        f"{API}/consultations/{consultation.id}",
        f"{API}/consultations/{consultation.id}/proposals",
        f"{API}/consultations/{consultation.id}/comments",
        f"{API}/proposals/{proposal.id}",
        f"{API}/proposals/{proposal.id}/comments",
        f"{API}/comments/{top.id}",
        f"{API}/comments/{top.id}/replies",
    ]
    answers = [client.get(url) for url in urls]
    answers.append(client.post(f"{API}/proposals/{proposal.id}/comments", json={"body": "Ja"}, headers=headers))
    answers.append(client.post(f"{API}/proposals/{proposal.id}/support", headers=headers))
    people = (world.anna, world.ben, world.newcomer, world.manager)
    personal = [user.email for user in people] + ["Echtname", "@example.org", "author_id", "user_id", "guest_name"]

    for response in answers:
        assert response.status_code in (200, 201), response.get_json()
        text = response.get_data(as_text=True)
        assert not [value for value in personal if value in text], text
    shown = [response.get_data(as_text=True) for response in answers]
    assert "Anna Aktiv" in shown[2] and "Ben Beteiligt" in shown[5] and "Gisela (Gast)" in shown[3]


def test_the_openapi_document_lists_the_participation_routes_and_their_scope(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path in (
        "/consultations",
        "/consultations/{consultation_id}",
        "/consultations/{consultation_id}/proposals",
        "/proposals/{proposal_id}/comments",
        "/comments/{comment_id}/replies",
    ):
        assert paths[API + path]["get"]["security"] == []
    write = paths[API + "/proposals/{proposal_id}/support"]["post"]
    assert write["security"] == [{"bearerAuth": ["participation"]}]
    assert write["x-access"] == "token:participation|signed_in"
    assert "ParticipationComment" in spec["components"]["schemas"]


def test_the_comment_pages_built_by_hand_say_what_the_documented_schema_says(client, world):
    from participation.schemas import ParticipationCommentPageSchema

    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    top = make_comment(world, consultation, proposal_id=proposal.id, body="Oben", stance="contra")
    make_comment(world, consultation, world.ben, parent_id=top.id, body="Darunter")
    for url in (f"{API}/proposals/{proposal.id}/comments", f"{API}/comments/{top.id}/replies"):
        response = client.get(url)
        assert response.mimetype == "application/json"
        served = response.json
        # What the schema would have written for the same page: the same keys and values, datetimes included.
        assert json.loads(json.dumps(ParticipationCommentPageSchema().dump(_as_loaded(served)))) == served
        assert served["items"][0]["created_at"].endswith("+00:00")


def _as_loaded(page: dict) -> dict:
    """The page with its datetimes parsed back, as the view's objects had them."""
    from datetime import datetime

    def item(value: dict) -> dict:
        parsed = {**value, "replies": [item(r) for r in value["replies"]]}
        for key in ("created_at", "edited_at"):
            if parsed[key] is not None:
                parsed[key] = datetime.fromisoformat(parsed[key])
        return parsed

    return {**page, "items": [item(i) for i in page["items"]]}
