"""Proposals: submitted under a pseudonym, counted, listed by cursor, shown escaped; similar ones suggested."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import render_template_string
from werkzeug.exceptions import NotFound

from participation.errors import ParticipationError
from participation.models import Proposal
from participation.services import proposals, pseudonyms, supports
from portal.actors import ANONYMOUS
from portal.extensions import db
from portal.timeutil import utcnow
from tests.participation.builders import (
    actor,
    count_queries,
    events,
    fresh,
    make_consultation,
    make_person,
    make_proposal,
    set_created_at,
)


def test_a_proposal_appears_under_the_pseudonym_chosen_with_it_never_the_account_name(world):
    consultation = make_consultation(world)

    proposal = make_proposal(world, consultation, world.newcomer, pseudonym="Nachbarin Nord")
    item = proposals.get_proposal(ANONYMOUS, proposal.id)

    assert item.author_name == "Nachbarin Nord"
    assert "Nina" not in item.author_name and "@" not in item.author_name
    assert proposal.reference == f"VOR-{utcnow().year}-000001"  # (Berlin's year; the tests never run at New Year)
    assert pseudonyms.get_pseudonym(world.newcomer.id).name == "Nachbarin Nord"
    assert json.loads(events("participation.pseudonym_chosen")[-1].details) == {"name": "Nachbarin Nord"}


def test_a_first_proposal_without_a_name_to_appear_under_is_refused(world):
    consultation = make_consultation(world)

    with pytest.raises(ParticipationError) as refused:
        make_proposal(world, consultation, world.newcomer)

    assert (refused.value.field, refused.value.code) == ("pseudonym", "pseudonym_required")
    assert fresh(consultation).proposal_count == 0
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0


def test_a_pseudonym_taken_in_other_letters_case_is_refused(world):
    consultation = make_consultation(world)

    with pytest.raises(ParticipationError) as refused:
        make_proposal(world, consultation, world.newcomer, pseudonym="anna   AKTIV")
    with pytest.raises(ParticipationError) as email_like:
        pseudonyms.choose(actor(world.newcomer), "nina@example.org")
    with pytest.raises(ParticipationError) as reserved:
        pseudonyms.choose(actor(world.newcomer), "Moderation")

    assert refused.value.code == "name_taken"
    assert (email_like.value.code, reserved.value.code) == ("bad_name", "reserved_name")
    assert pseudonyms.get_pseudonym(world.newcomer.id) is None


def test_submitting_counts_on_the_consultation_and_is_audited(world):
    consultation = make_consultation(world, categories=["Grün", "Verkehr"])

    proposal = make_proposal(world, consultation, category="Grün", address="Altmarkt 1", lat=51.05, lon=13.74)

    assert fresh(consultation).proposal_count == 1
    assert (proposal.state, proposal.category, proposal.lat, proposal.lon) == ("published", "Grün", 51.05, 13.74)
    event = events("participation.proposal_created")[0]
    assert event.subject_user_id == world.anna.id
    assert json.loads(event.details) == {
        "consultation": consultation.slug,
        "reference": proposal.reference,
        "state": "published",
    }


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"category": "Sport"}, "category", "bad_category"),
        ({"lat": 48.1, "lon": 11.5}, "lat", "outside_city"),
        ({"lat": "nord", "lon": 13.7}, "lat", "bad_point"),
        ({"title": "x" * 201}, "title", "too_long"),
        ({"body": "   "}, "body", "required"),
        ({"image_key": "nicht-da"}, "image", "unknown_image"),
    ],
)
def test_bad_input_is_refused_next_to_its_field(world, fields, field, code):
    consultation = make_consultation(world, categories=["Grün"])

    with pytest.raises(ParticipationError) as refused:
        make_proposal(world, consultation, **fields)

    assert (refused.value.field, refused.value.code) == (field, code)


def test_in_a_premoderated_consultation_a_proposal_waits_and_only_its_author_sees_it(world):
    consultation = make_consultation(world, premoderation=True)

    proposal = make_proposal(world, consultation)

    assert proposal.state == "pending"
    assert fresh(consultation).proposal_count == 0
    assert [i.proposal.id for i in proposals.list_proposals(actor(world.anna), consultation.id).items] == [proposal.id]
    assert proposals.list_proposals(actor(world.ben), consultation.id).items == []
    assert proposals.get_proposal(actor(world.manager), proposal.id).own is False
    with pytest.raises(NotFound):
        proposals.get_proposal(actor(world.ben), proposal.id)


def test_a_script_in_a_proposal_is_kept_as_text_and_shown_escaped(world, app):
    consultation = make_consultation(world)
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'

    proposal = make_proposal(world, consultation, title=attack[:60], body=attack)
    shown = render_template_string("<h2>{{ p.title }}</h2><p>{{ p.body }}</p>", p=proposal)

    assert proposal.body == attack
    assert "<script>" not in shown and "<img" not in shown
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in shown


def test_similar_proposals_share_title_words_and_ignore_common_ones(world):
    consultation = make_consultation(world)
    trees = make_proposal(world, consultation, title="Mehr Bäume auf dem Altmarkt")
    benches = make_proposal(world, consultation, title="Bänke und Bäume für den Altmarkt")
    bikes = make_proposal(world, consultation, title="Mehr Fahrradständer am Bahnhof")
    elsewhere = make_consultation(world, title="Anderes Verfahren")
    make_proposal(world, elsewhere, title="Bäume auf dem Altmarkt")

    similar = proposals.similar_proposals(consultation.id, "Neue Bäume am Altmarkt pflanzen")

    assert [p.id for p in similar] == [benches.id, trees.id]  # both share two words; the newer first
    assert [p.id for p in proposals.similar_proposals(consultation.id, "Bäume")] == [benches.id, trees.id]
    assert proposals.similar_proposals(consultation.id, "mehr oder über") == []
    assert [p.id for p in proposals.similar_proposals(consultation.id, "Fahrradständer")] == [bikes.id]


def test_the_newest_first_list_walks_every_proposal_once_even_with_equal_times(world):
    consultation = make_consultation(world)
    made = [make_proposal(world, consultation, title=f"Vorschlag {n}") for n in range(23)]
    same_moment = utcnow() - timedelta(hours=1)
    for proposal in made[5:12]:  # seven proposals share one created_at: the id breaks the tie
        set_created_at(proposal, same_moment)

    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = proposals.list_proposals(ANONYMOUS, consultation.id, cursor=cursor, limit=5)
        seen += [item.proposal.id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    rows = [db.session.get(Proposal, i) for i in seen]
    expected = sorted(made, key=lambda p: (fresh(p).created_at, p.id), reverse=True)
    assert seen == [p.id for p in expected]
    assert len(set(seen)) == 23
    assert all(r.created_at >= s.created_at for r, s in itertools.pairwise(rows))


def test_the_most_supported_list_orders_by_supports_then_newest(world):
    consultation = make_consultation(world)
    quiet, popular, liked = (make_proposal(world, consultation, title=t) for t in ("Leise", "Beliebt", "Gemocht"))
    for user in (world.anna, world.ben, world.newcomer):
        supports.support(actor(user), popular.id)
    supports.support(actor(world.ben), liked.id)

    first = proposals.list_proposals(actor(world.ben), consultation.id, order="supported", limit=2)
    second = proposals.list_proposals(actor(world.ben), consultation.id, order="supported", cursor=first.next_cursor)

    assert [i.proposal.title for i in first.items + second.items] == ["Beliebt", "Gemocht", "Leise"]
    assert [i.supported for i in first.items + second.items] == [True, True, False]
    assert second.next_cursor is None
    assert quiet.support_count == 0


def test_a_page_of_proposals_costs_the_same_queries_however_many_there_are(world):
    small = make_consultation(world, title="Klein")
    big = make_consultation(world, title="Groß")
    for n in range(3):
        make_proposal(world, small, title=f"Klein {n}")
    authors = [make_person(f"p{n}@example.org") for n in range(6)]
    for n, author in enumerate(authors):
        pseudonyms.choose(actor(author), f"Person {n}")
    for n in range(30):
        make_proposal(world, big, authors[n % 6], title=f"Groß {n}")
    db.session.expire_all()

    with count_queries() as few:
        proposals.list_proposals(actor(world.ben), small.id, limit=20)
    db.session.expire_all()
    with count_queries() as many:
        page = proposals.list_proposals(actor(world.ben), big.id, limit=20)

    assert len(page.items) == 20 and {i.author_name for i in page.items} == {f"Person {n}" for n in range(6)}
    # The viewer's account (expired above), the consultation, the page with the authors' pseudonyms and the viewer's
    # supports (one query).
    assert len(many) == len(few) == 3


def test_a_forged_cursor_is_refused(world):
    consultation = make_consultation(world)

    for cursor in ("nonsense", "WzEsMl0", "WyJ4IiwxXQ"):  # garbage, [1,2] for "newest", ["x",1] bad time
        with pytest.raises(ParticipationError) as refused:
            proposals.list_proposals(ANONYMOUS, consultation.id, cursor=cursor)
        assert refused.value.code == "bad_cursor"


def test_a_proposal_is_found_by_its_reference(world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)

    assert proposals.get_by_reference(ANONYMOUS, proposal.reference.lower()).proposal.id == proposal.id
    with pytest.raises(NotFound):
        proposals.get_by_reference(ANONYMOUS, "VOR-1999-000001")
