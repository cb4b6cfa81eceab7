"""A draft text commented paragraph by paragraph: pasting splits it into paragraphs (numbers and headings from
"§" lines), it changes until commenting begins, comments on a paragraph are counted on it (replies and
moderation included), listed by cursor apart from the consultation's own comments, and refused outside the
draft phase."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden, NotFound

from participation.errors import ActionRefused, ParticipationError
from participation.models import Comment
from participation.services import comments, consultations, drafts, moderation
from participation.services.drafts import ParagraphText, split_draft
from tests.participation.builders import DAY, actor, events, fresh, make_comment, make_consultation
from tests.participation.survey_builders import STATUTE, make_draft


def test_pasting_a_statute_splits_it_into_numbered_paragraphs():
    assert split_draft(STATUTE) == [
        ParagraphText("§ 1", "Geltungsbereich", "Diese Satzung gilt für alle öffentlichen Grünanlagen der Stadt."),
        ParagraphText("§ 2", "Nutzung", "(1) Die Grünanlagen dürfen von jedermann zur Erholung genutzt werden."),
        ParagraphText(None, None, "(2) Hunde sind an der Leine zu führen."),
        ParagraphText("§ 3", "Inkrafttreten", "Diese Satzung tritt am Tag nach ihrer Bekanntmachung in Kraft."),
    ]


def test_text_without_numbers_is_split_on_blank_lines_only():
    text = "Präambel der Stadt.\nZweite Zeile.\n\n\n  \nArt. 2\nText zu Artikel 2.\n\n§ 9 (weggefallen)\n\n§ 10 Ende"

    assert split_draft(text) == [
        ParagraphText(None, None, "Präambel der Stadt.\nZweite Zeile."),
        ParagraphText("Art. 2", None, "Text zu Artikel 2."),
        ParagraphText("§ 9", "(weggefallen)", ""),
        ParagraphText("§ 10", "Ende", ""),
    ]


def test_a_saved_draft_reads_back_the_same_in_the_editor(world):
    consultation, paragraphs = make_draft(world)

    again = drafts.draft_as_text(paragraphs)

    assert split_draft(again) == split_draft(STATUTE)
    assert [(p.position, p.title, p.comment_count) for p in paragraphs] == [
        (0, "§ 1 Geltungsbereich", 0),
        (1, "§ 2 Nutzung", 0),
        (2, "", 0),
        (3, "§ 3 Inkrafttreten", 0),
    ]
    [saved] = events("participation.draft_saved")
    assert json.loads(saved.details) == {"slug": consultation.slug, "paragraphs": 4}


def test_saving_replaces_the_draft_until_commenting_begins(world):
    consultation, _ = make_draft(world, start=2 * DAY, end=5 * DAY)  # published, commenting opens in two days

    saved = drafts.save_draft(actor(world.manager), consultation.id, "§ 1 Neu\nNeuer Text.")

    assert [p.title for p in drafts.list_paragraphs(actor(world.anna), consultation.id)] == ["§ 1 Neu"]
    assert len(saved) == 1


def test_once_commenting_has_begun_the_draft_stays_as_it_is(world):
    consultation, paragraphs = make_draft(world)

    with pytest.raises(ParticipationError) as refused:
        drafts.save_draft(actor(world.manager), consultation.id, "Etwas anderes.")

    assert (refused.value.code, refused.value.status) == ("draft_started", 409)
    assert len(drafts.list_paragraphs(actor(world.manager), consultation.id)) == len(paragraphs) == 4


def test_only_the_consultations_managers_save_its_draft_and_limits_hold(world):
    consultation = make_consultation(world, phases=[("draft", 2 * DAY, 5 * DAY)], publish=False)

    for other in (actor(world.other_manager), actor(world.anna)):
        with pytest.raises(Forbidden):
            drafts.save_draft(other, consultation.id, STATUTE)
    with pytest.raises(ParticipationError) as too_long:
        drafts.save_draft(actor(world.manager), consultation.id, "Kurz.\n\n" + "x" * 10_001)

    assert (too_long.value.field, too_long.value.code) == ("text", "too_long")
    assert str(too_long.value.message) == "Absatz 2: Der Text ist zu lang (höchstens 10.000 Zeichen)."


def test_comments_on_a_paragraph_count_on_it_and_on_the_consultation(world):
    consultation, paragraphs = make_draft(world)
    first, second = paragraphs[0], paragraphs[1]

    top = make_comment(world, consultation, paragraph_id=first.id, body="Gilt das auch für Spielplätze?")
    reply = make_comment(world, consultation, world.ben, parent_id=top.id, body="Gute Frage.")
    make_comment(world, consultation, world.ben, paragraph_id=second.id, body="Leinenpflicht überall?")

    assert (reply.paragraph_id, reply.depth) == (first.id, 1)
    assert (fresh(first).comment_count, fresh(second).comment_count) == (2, 1)
    assert fresh(consultation).comment_count == 3
    created = events("participation.comment_created")
    assert json.loads(created[0].details)["paragraph"] == first.id
    assert json.loads(created[1].details)["paragraph"] == first.id


def test_a_paragraphs_thread_lists_its_comments_only_and_walks_by_cursor(world):
    consultation, paragraphs = make_draft(world)
    for i in range(23):
        make_comment(world, consultation, paragraph_id=paragraphs[0].id, body=f"Anmerkung {i}")
    make_comment(world, consultation, paragraph_id=paragraphs[1].id, body="Zum zweiten Absatz")

    page = comments.list_comments(actor(world.ben), consultation.id, paragraph_id=paragraphs[0].id)
    rest = comments.list_comments(
        actor(world.ben), consultation.id, paragraph_id=paragraphs[0].id, cursor=page.next_cursor
    )
    general = comments.list_comments(actor(world.ben), consultation.id)

    assert [item.text for item in page.items] == [f"Anmerkung {i}" for i in range(20)]
    assert [item.text for item in rest.items] == ["Anmerkung 20", "Anmerkung 21", "Anmerkung 22"]
    assert rest.next_cursor is None
    assert page.items[0].author_name == "Anna Aktiv"
    assert general.items == []  # paragraph comments are not the consultation's own thread


def test_commenting_a_paragraph_is_refused_outside_the_draft_phase_and_vice_versa(world):
    consultation = make_consultation(world, phases=[("comments", -DAY, DAY), ("draft", DAY, 5 * DAY)], publish=False)
    [paragraph] = drafts.save_draft(actor(world.manager), consultation.id, "§ 1 Zweck\nDer Zweck.")
    consultations.publish(actor(world.manager), consultation.id)
    general = make_comment(world, consultation, body="Allgemein")  # the comments phase is in force

    with pytest.raises(ActionRefused) as refused:
        make_comment(world, consultation, paragraph_id=paragraph.id)

    assert refused.value.code == "phase_closed"
    assert str(refused.value.message).startswith("Den Entwurf kommentieren ist ab dem ")
    assert general.paragraph_id is None and fresh(paragraph).comment_count == 0


def test_in_the_draft_phase_only_the_paragraphs_take_comments(world):
    consultation, paragraphs = make_draft(world)
    top = make_comment(world, consultation, paragraph_id=paragraphs[0].id)

    with pytest.raises(ActionRefused) as general:
        make_comment(world, consultation, body="Allgemein")
    edited = comments.edit_comment(actor(world.anna), top.id, body="Geändert.")

    assert general.value.code == "phase_closed"
    assert edited.body == "Geändert."


def test_a_paragraph_of_another_consultation_is_not_found(world):
    consultation, _ = make_draft(world)
    _, elsewhere = make_draft(world)

    with pytest.raises(NotFound):
        make_comment(world, consultation, paragraph_id=elsewhere[0].id)
    with pytest.raises(NotFound):
        drafts.get_paragraph(actor(world.anna), consultation.id, elsewhere[0].id)


def test_moderation_and_pre_moderation_keep_the_paragraphs_count(world):
    consultation, paragraphs = make_draft(world, premoderation=True)
    paragraph = paragraphs[0]
    pending = make_comment(world, consultation, paragraph_id=paragraph.id)

    counted_pending = fresh(paragraph).comment_count
    moderation.publish(actor(world.manager), "comment", pending.id)
    counted_published = fresh(paragraph).comment_count
    moderation.hide(actor(world.manager), "comment", pending.id, reason="spam")
    counted_hidden = fresh(paragraph).comment_count
    moderation.restore(actor(world.manager), "comment", pending.id)

    assert (counted_pending, counted_published, counted_hidden) == (0, 1, 0)
    assert fresh(paragraph).comment_count == 1
    assert fresh(consultation).comment_count == 1


def test_a_comment_names_a_proposal_or_a_paragraph_not_both(world):
    consultation, paragraphs = make_draft(world)

    with pytest.raises(ParticipationError) as refused:
        make_comment(world, consultation, paragraph_id=paragraphs[0].id, proposal_id=1)

    assert refused.value.code == "bad_target"
    assert sa.inspect(Comment).columns["paragraph_id"].foreign_keys  # a real reference since 0021
