"""The participation API under hostile input: bad cursors, queries, ids and bodies are client errors (4xx with
problem JSON), never a 500, and change nothing."""

from __future__ import annotations

import base64
import json

import pytest
import sqlalchemy as sa

from participation.errors import ParticipationError
from participation.models import Comment, Proposal
from participation.services import comments
from portal.actors import ANONYMOUS
from portal.extensions import db
from tests.participation.api_helpers import API, PROBLEM, problem_of, signed_in
from tests.participation.builders import make_comment, make_consultation, make_proposal


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "\x00",
        "ä",
        "x" * 500,
        _cursor([10**30, 1]),
        _cursor([2**63, 2**63]),
        _cursor(["9999-12-31T23:59:59-14:00", 1]),
        _cursor([1.5, 2]),
        _cursor({"a": 1}),
        "W1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tb",
    ],
)
def test_a_bad_cursor_is_a_client_error_never_a_500(client, world, cursor):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    comment = make_comment(world, consultation, proposal_id=proposal.id)
    for url, extra in [
        (f"{API}/consultations/{consultation.id}/proposals", {}),
        (f"{API}/consultations/{consultation.id}/proposals", {"sort": "supported"}),
        (f"{API}/consultations/{consultation.id}/comments", {}),
        (f"{API}/proposals/{proposal.id}/comments", {}),
        (f"{API}/comments/{comment.id}/replies", {}),
    ]:
        response = client.get(url, query_string={"cursor": cursor, **extra})
        assert 400 <= response.status_code < 500, (url, extra, response.get_data(as_text=True))
        assert response.mimetype == PROBLEM


def test_a_cursor_nested_too_deep_for_the_json_decoder_is_refused_as_a_bad_page(world):
    """The web pages pass their cursors on unchecked (the API caps them at 200 characters)."""
    consultation = make_consultation(world)
    deep = base64.urlsafe_b64encode(b"[" * 3000).decode()
    with pytest.raises(ParticipationError) as refused:
        comments.list_comments(ANONYMOUS, consultation.id, cursor=deep)
    assert (refused.value.code, refused.value.status) == ("bad_cursor", 400)


def test_bad_queries_and_ids_are_client_errors(client, world):
    consultation = make_consultation(world)
    for url, status in [
        (f"{API}/consultations?status=bald", 422),
        (f"{API}/consultations?district=%00", 422),
        (f"{API}/consultations/{consultation.id}/proposals?limit=0", 422),
        (f"{API}/consultations/{consultation.id}/proposals?limit=" + "9" * 5000, 422),
        (f"{API}/consultations/{consultation.id}/proposals?sort=random", 422),
        (f"{API}/consultations/{consultation.id}/proposals?category=a%00b", 422),
        (f"{API}/consultations/{consultation.id}/comments?replies=-1", 422),
        (f"{API}/consultations/99999999999999999999999", 404),
        (f"{API}/consultations/0", 404),
        (f"{API}/proposals/-1", 404),
        (f"{API}/proposals/2147483647", 404),
        (f"{API}/comments/abc/replies", 404),
    ]:
        problem_of(client.get(url), status)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"title": "Null\x00Byte", "body": "Text"}, 422, "title"),
        ({"title": "Titel", "body": 5}, 422, "body"),
        ({"title": ["Titel"], "body": "Text"}, 422, "title"),
        ({"title": "Titel", "body": "Text", "lat": "Norden", "lon": 12.3}, 422, "lat"),
        ({"title": "Titel", "body": "Text", "lat": 1e400, "lon": 12.3}, 422, "lat"),
        ({"title": "Titel", "body": "Text", "lat": 10**400, "lon": 12.3}, 422, "lat"),
        ({"title": "Titel", "body": "Text", "lat": 51.3}, 422, "lat"),
        ({"title": "Titel", "body": "Text", "lat": 1.0, "lon": 1.0}, 422, "lat"),
        ({"title": "Titel", "body": "Text", "admin": True}, 422, "admin"),
        ({"title": "Titel", "body": "x" * 5001}, 422, "body"),
        ({"title": "Titel", "body": "Text", "category": "Unbekannt"}, 422, "category"),
        ({"body": "Text"}, 422, "title"),
    ],
)
def test_a_bad_proposal_is_refused_with_field_errors(client, world, body, status, field):
    consultation = make_consultation(world, categories=["Grün"])
    headers = signed_in(client, world.anna)
    response = client.post(f"{API}/consultations/{consultation.id}/proposals", json=body, headers=headers)
    assert field in problem_of(response, status)["errors"]
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b'{"body": "Hallo", "parent_id": 99999999999999999999999999}', 422),
        (b'{"body": "Hallo", "parent_id": true}', 422),
        (b'{"body": "Hallo", "parent_id": "1"}', 422),
        (b'{"body": "Hallo", "parent_id": 2147483647}', 404),
        (b'{"body": "Hallo", "stance": "maybe"}', 422),
        (b'{"body": "\\ud800"}', 422),
        (b'{"body": "Hallo", "pseudonym": "\\u0000"}', 422),
        (b'{"body": ' + b"9" * 5000 + b"}", 400),
        (b"[" * 100_000 + b"]" * 100_000, 400),
        (b"[]", 422),
        (b"{nicht json", 400),
        (b"\xff\xfe", 400),
    ],
)
def test_a_bad_comment_body_is_a_client_error_never_a_500(client, world, raw, status):
    consultation = make_consultation(world)
    headers = {**signed_in(client, world.anna), "Content-Type": "application/json"}
    response = client.post(f"{API}/consultations/{consultation.id}/comments", data=raw, headers=headers)
    problem_of(response, status)
    assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0
