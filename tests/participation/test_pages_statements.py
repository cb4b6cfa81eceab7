"""What the citizens' reading pages cost the database: a consultation's page with its list of proposals and a
proposal's page with its thread take at most 10 SQL statements per request, the signed-in person's session and
roles included, and the same number however many proposals and comments there are.
(benchmarks/participation_bench.py counts them with 5,000 proposals and 100,000 comments.)"""

from __future__ import annotations

import pytest

from participation.services import answers, supports
from portal.extensions import db
from tests.participation.builders import (
    World,
    actor,
    count_queries,
    make_comment,
    make_consultation,
    make_person,
    make_proposal,
)
from tests.portal.audit.helpers import sign_in


@pytest.fixture
def app_config(app_config):
    # What rendering from the database costs; pages kept under the cache token: tests/participation/test_cached_pages.py
    return {**app_config, "PARTICIPATION_CACHE": False}


MAX_STATEMENTS = 10


def _people(count: int) -> list:
    from participation.services import pseudonyms

    people = [make_person(f"p{n}@example.org") for n in range(count)]
    for n, person in enumerate(people):
        pseudonyms.choose(actor(person), f"Person {n}")
    return people


def _thread(world: World, consultation, people, size: int, proposal_id: int | None = None) -> None:
    """`size` comments: top-level ones, every third with four replies (one more than a page shows) and a reply to
    the first of them (the third level)."""
    made = 0
    while made < size:
        top = make_comment(world, consultation, people[made % len(people)], proposal_id=proposal_id, body=f"K{made}")
        made += 1
        if made % 3 == 1:
            for n in range(min(4, size - made)):
                reply = make_comment(world, consultation, world.ben, parent_id=top.id, body=f"Antwort {n}")
                made += 1
                if n == 0 and made < size:
                    make_comment(world, consultation, people[0], parent_id=reply.id, body="Darauf")
                    made += 1


def _statements(client, url: str, shown: str) -> int:
    db.session.remove()  # each request starts with an empty session, as it does under gunicorn
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    assert shown in response.get_data(as_text=True)
    return len(statements)


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_proposal_page_takes_at_most_10_statements_for_5_and_for_150_comments(client, world, signed_in):
    people = _people(4)
    consultation = make_consultation(world)
    small = make_proposal(world, consultation, title="Wenig besprochen")
    large = make_proposal(world, consultation, people[1], title="Viel besprochen")
    for proposal in (small, large):  # the page's dearest case: it shows the answer and its history too
        answers.answer(actor(world.manager), proposal.id, "under_review", "Wir prüfen den Vorschlag.")
        supports.support(actor(world.ben), proposal.id)
    _thread(world, consultation, people, 5, small.id)
    _thread(world, consultation, people, 150, large.id)
    urls = [f"/beteiligung/{consultation.slug}/vorschlaege/{p.reference}" for p in (small, large)]
    if signed_in:
        sign_in(client, world.ben)
    client.get(urls[0])  # anything the first request of an app loads once

    few = _statements(client, urls[0], "Wir prüfen den Vorschlag.")
    many = _statements(client, urls[1], "Weitere Antworten")

    # The session with the account, its roles and memberships (signed in); the consultation with its phases and
    # department; the proposal with its author's pseudonym and the viewer's support; the page of the thread with
    # two levels of replies and their pseudonyms; the answer's history; the viewer's block and pseudonym.
    assert few == many <= MAX_STATEMENTS


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_consultation_page_takes_at_most_10_statements_for_2_and_for_45_proposals(client, world, signed_in):
    people = _people(6)
    small = make_consultation(world, title="Kleines Verfahren")
    large = make_consultation(world, title="Großes Verfahren")
    for n in range(2):
        make_proposal(world, small, people[n], title=f"Klein {n}")
    made = [make_proposal(world, large, people[n % 6], title=f"Groß {n}") for n in range(45)]
    for proposal in made[-10::3]:  # the newest page shows which of them the viewer supports
        supports.support(actor(world.ben), proposal.id)
    _thread(world, small, people, 1)
    _thread(world, large, people, 40)
    urls = [f"/beteiligung/{c.slug}" for c in (small, large)]
    if signed_in:
        sign_in(client, world.ben)
    client.get(urls[0])

    few = _statements(client, urls[0], "Klein 1")
    many = _statements(client, urls[1], "Weitere Vorschläge")

    # The session, roles and memberships (signed in); the consultation with its phases and department; the page of
    # proposals with their authors' pseudonyms and the viewer's supports; the viewer's block; the consultation's own
    # thread with its replies and pseudonyms; the viewer's pseudonym (for the comment form).
    assert few == many <= MAX_STATEMENTS
