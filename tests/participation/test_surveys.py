"""Surveys: questions written until the survey begins, answers checked question by question, one answer set per
person (also under concurrent double clicks), refused outside the survey's phase, and the results counted."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from participation.errors import ActionRefused, ParticipationError
from participation.models_surveys import SurveyAnswer, SurveyResponse
from participation.services import consultations, survey_results, surveys
from participation.services.surveys import QuestionDraft, SurveyInvalid
from portal.accounts.models import User
from portal.actors import ANONYMOUS, Actor
from portal.extensions import db
from portal.timeutil import utcnow
from tests.participation.builders import DAY, actor, count_queries, events, fresh, make_person
from tests.participation.survey_builders import answer, make_survey

CLICKS = 6


@pytest.fixture
def app_config(app_config):
    # The clicking threads each hold a connection; SQLite writers queue on the database lock meanwhile.
    options = {"pool_size": 10, "max_overflow": 5, "pool_timeout": 60}
    if app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = {"connect_args": {"timeout": 60}}
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": options}


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)))


# --- the questions ----------------------------------------------------------------------------------------------


def test_a_manager_writes_questions_of_each_kind_in_order(world):
    survey = make_survey(world, publish=False)

    listed = surveys.list_questions(actor(world.manager), survey.consultation.id)

    assert [(q.position, q.kind, q.required) for q in listed] == [
        (0, "single", True),
        (1, "multiple", True),
        (2, "scale", True),
        (3, "text", False),
    ]
    assert [o.label for o in listed[0].options] == ["Zu Fuß", "Mit dem Rad", "Mit Bus und Bahn"]
    assert (listed[2].steps, listed[2].min_label, listed[2].max_label) == (
        [1, 2, 3, 4, 5],
        "gar nicht wichtig",
        "sehr wichtig",
    )
    assert listed[3].options == [] and listed[3].scale_min is None
    changed = events("participation.survey_changed")
    assert [json.loads(e.details)["change"] for e in changed] == ["added"] * 4


def test_questions_are_changed_moved_and_removed_with_the_others_closing_ranks(world):
    survey = make_survey(world, publish=False)
    manager = actor(world.manager)

    surveys.update_question(
        manager, survey.way.id, QuestionDraft("multiple", "Womit kommen Sie?", False, ["Rad", "Auto", "rad", " "])
    )
    surveys.move_question(manager, survey.remarks.id, -1)
    surveys.remove_question(manager, survey.missing.id)

    listed = surveys.list_questions(manager, survey.consultation.id)
    assert [(q.position, q.text) for q in listed] == [
        (0, "Womit kommen Sie?"),
        (1, "Was möchten Sie uns noch sagen?"),
        (2, "Wie wichtig ist Ihnen Schatten?"),
    ]
    assert [o.label for o in listed[0].options] == ["Rad", "Auto"]  # blank and repeated lines dropped
    assert [json.loads(e.details)["change"] for e in events("participation.survey_changed")][-3:] == [
        "changed",
        "moved",
        "removed",
    ]


@pytest.mark.parametrize(
    ("draft", "field", "code"),
    [
        (QuestionDraft("single", "Welche?", options=["Nur eine"]), "options", "too_few_options"),
        (
            QuestionDraft("multiple", "Welche?", options=[f"Antwort {i}" for i in range(21)]),
            "options",
            "too_many_options",
        ),
        (QuestionDraft("scale", "Wie sehr?", scale_min=3, scale_max=3), "scale_max", "bad_scale"),
        (QuestionDraft("scale", "Wie sehr?", scale_min=0, scale_max=11), "scale_max", "bad_scale"),
        (QuestionDraft("scale", "Wie sehr?", scale_min=-1, scale_max=4), "scale_min", "bad_scale"),
        (QuestionDraft("essay", "Was?"), "kind", "bad_kind"),
        (QuestionDraft("text", "   "), "text", "required"),
    ],
)
def test_a_question_that_cannot_be_asked_is_refused_at_its_field(world, draft, field, code):
    survey = make_survey(world, publish=False)

    with pytest.raises(ParticipationError) as refused:
        surveys.add_question(actor(world.manager), survey.consultation.id, draft)

    assert (refused.value.field, refused.value.code) == (field, code)
    assert len(surveys.list_questions(actor(world.manager), survey.consultation.id)) == 4


def test_questions_change_after_publishing_until_the_survey_begins(world):
    survey = make_survey(world, start=2 * DAY, end=5 * DAY)

    added = surveys.add_question(actor(world.manager), survey.consultation.id, QuestionDraft("text", "Noch etwas?"))

    assert added.position == 4
    assert surveys.questions_editable(survey.consultation)


def test_once_the_survey_has_begun_the_questions_stay_as_they_are(world):
    survey = make_survey(world)  # its phase began yesterday
    manager = actor(world.manager)

    attempts = [
        lambda: surveys.add_question(manager, survey.consultation.id, QuestionDraft("text", "Noch etwas?")),
        lambda: surveys.update_question(manager, survey.way.id, QuestionDraft("text", "Anders?")),
        lambda: surveys.remove_question(manager, survey.way.id),
        lambda: surveys.move_question(manager, survey.way.id, 1),
    ]
    for attempt in attempts:
        with pytest.raises(ParticipationError) as refused:
            attempt()
        assert refused.value.code == "survey_started"
        assert str(refused.value.message) == "Die Fragen lassen sich nur ändern, bis die Umfrage beginnt."
    assert fresh(survey.way).text == "Wie kommen Sie zum Altmarkt?"


def test_only_the_consultations_managers_write_its_questions(world):
    survey = make_survey(world, publish=False)

    for other in (actor(world.other_manager), actor(world.anna)):
        with pytest.raises(Forbidden):
            surveys.add_question(other, survey.consultation.id, QuestionDraft("text", "Von außen?"))
        with pytest.raises(Forbidden):
            surveys.remove_question(other, survey.way.id)


# --- answering --------------------------------------------------------------------------------------------------


def test_an_answer_set_is_stored_once_with_one_row_per_answer_and_audited_without_the_answers(world):
    survey = make_survey(world)

    response = answer(survey, world.anna, missing=["Bänke", "Toiletten"], remarks="Mehr Schatten, bitte.")

    rows = db.session.scalars(sa.select(SurveyAnswer).where(SurveyAnswer.response_id == response.id)).all()
    assert response.user_id == world.anna.id
    assert sorted((r.question_id, r.option_id, r.value, r.text) for r in rows) == sorted(
        [
            (survey.way.id, survey.option(survey.way, "Zu Fuß"), None, None),
            (survey.missing.id, survey.option(survey.missing, "Bänke"), None, None),
            (survey.missing.id, survey.option(survey.missing, "Toiletten"), None, None),
            (survey.rating.id, None, 4, None),
            (survey.remarks.id, None, None, "Mehr Schatten, bitte."),
        ]
    )
    assert surveys.has_answered(actor(world.anna), survey.consultation.id)
    assert not surveys.has_answered(actor(world.ben), survey.consultation.id)
    [event] = events("participation.survey_answered")
    assert event.subject_user_id == world.anna.id
    assert json.loads(event.details) == {"consultation": survey.consultation.slug, "questions": 4}


def test_a_second_answer_set_is_refused_with_a_clear_message(world):
    survey = make_survey(world)
    answer(survey, world.anna)

    with pytest.raises(ParticipationError) as again:
        answer(survey, world.anna, way="Mit dem Rad")

    assert (again.value.code, again.value.status) == ("already_answered", 409)
    assert str(again.value.message) == "Sie haben schon teilgenommen: Je Person zählt eine Antwort."
    assert (_count(SurveyResponse), _count(SurveyAnswer)) == (1, 3)  # the optional text left empty


def test_a_submission_that_loses_the_race_after_checking_meets_the_unique_key(world, monkeypatch):
    """The other click committed between our check and our insert: the UNIQUE key refuses the second response,
    the whole transaction rolls back (its answers too), and the person hears "already answered"."""
    survey = make_survey(world)
    answer(survey, world.anna)
    monkeypatch.setattr(surveys, "_response_of", lambda consultation_id, user_id: None)

    with pytest.raises(ParticipationError) as refused:
        answer(survey, world.anna)

    assert refused.value.code == "already_answered"
    assert (_count(SurveyResponse), _count(SurveyAnswer)) == (1, 3)
    assert len(events("participation.survey_answered")) == 1


def test_concurrent_double_submissions_store_one_answer_set(app, world):
    survey = make_survey(world)
    consultation_id, user_id, sent = survey.consultation.id, world.ben.id, survey.answers()
    barrier = threading.Barrier(CLICKS)
    outcomes: list[str] = []

    def click() -> None:
        with app.app_context():
            try:
                person = Actor.for_user(db.session.get(User, user_id))
                barrier.wait()
                surveys.answer_survey(person, consultation_id, sent)
                outcomes.append("answered")
            except ParticipationError as error:
                outcomes.append(error.code)
            except Exception as error:  # reported by the assertion below
                outcomes.append(f"error: {error!r}")
            finally:
                db.session.remove()

    db.session.remove()  # the test's own connection must hold no lock while the clicks race
    threads = [threading.Thread(target=click) for _ in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads), "a click hung"
    assert sorted(outcomes) == ["already_answered"] * (CLICKS - 1) + ["answered"], outcomes
    assert (_count(SurveyResponse), _count(SurveyAnswer)) == (1, 3)  # the optional text left empty
    assert len(events("participation.survey_answered")) == 1


def test_each_answer_that_does_not_fit_is_named_at_its_question_and_nothing_is_stored(world):
    survey = make_survey(world)
    sent = {
        survey.way.id: str(survey.option(survey.missing, "Bänke")),  # an option of another question
        survey.missing.id: [],
        survey.rating.id: "7",
        survey.remarks.id: "x" * 2001,
    }

    with pytest.raises(SurveyInvalid) as invalid:
        surveys.answer_survey(actor(world.anna), survey.consultation.id, sent)

    assert (invalid.value.code, invalid.value.status) == ("invalid_answers", 422)
    assert {question_id: str(message) for question_id, message in invalid.value.errors.items()} == {
        survey.way.id: "Wählen Sie eine der angebotenen Antworten.",
        survey.missing.id: "Wählen Sie mindestens eine Antwort.",
        survey.rating.id: "Wählen Sie einen Wert von 1 bis 5.",
        survey.remarks.id: "Höchstens 2.000 Zeichen.",
    }
    assert _count(SurveyResponse) == 0
    assert not surveys.has_answered(actor(world.anna), survey.consultation.id)


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("way", None, "Wählen Sie eine Antwort."),
        ("way", ["1", "2"], "Wählen Sie eine der angebotenen Antworten."),
        ("way", "kein-id", "Wählen Sie eine der angebotenen Antworten."),
        ("rating", "", "Wählen Sie eine Antwort."),
        ("rating", "4.5", "Wählen Sie einen Wert von 1 bis 5."),
        ("rating", ["2", "3"], "Wählen Sie einen Wert von 1 bis 5."),
        ("remarks", ["a", "b"], "Geben Sie hier einen Text an."),
    ],
)
def test_a_single_answer_must_be_one_of_those_offered(world, question, value, message):
    survey = make_survey(world)
    sent = survey.answers()
    sent[getattr(survey, question).id] = value

    with pytest.raises(SurveyInvalid) as invalid:
        surveys.answer_survey(actor(world.anna), survey.consultation.id, sent)

    assert {str(m) for m in invalid.value.errors.values()} == {message}


def test_an_empty_submission_of_optional_questions_is_refused(world):
    survey = make_survey(world, publish=False)
    manager = actor(world.manager)
    for question in (survey.way, survey.missing, survey.rating):
        surveys.remove_question(manager, question.id)
    consultations.publish(manager, survey.consultation.id)

    with pytest.raises(SurveyInvalid) as invalid:
        surveys.answer_survey(actor(world.anna), survey.consultation.id, {survey.remarks.id: "   "})

    assert (invalid.value.code, str(invalid.value.message)) == ("no_answers", "Beantworten Sie mindestens eine Frage.")
    assert _count(SurveyResponse) == 0


def test_answering_is_refused_outside_the_survey_phase_with_when_it_opens(world):
    upcoming = make_survey(world, start=2 * DAY, end=5 * DAY)
    over = make_survey(world, start=-5 * DAY, end=-DAY, title="Vorbei")

    with pytest.raises(ActionRefused) as early:
        answer(upcoming, world.anna)
    with pytest.raises(ActionRefused) as late:
        answer(over, world.anna)

    assert early.value.code == late.value.code == "phase_closed"
    assert str(early.value.message).startswith("An der Umfrage teilnehmen ist ab dem ")
    assert str(late.value.message).startswith("An der Umfrage teilnehmen war bis zum ")
    assert _count(SurveyResponse) == 0


def test_answering_needs_an_account_even_where_guests_may_comment_and_ends_with_closing(world):
    survey = make_survey(world, audience="guests")

    with pytest.raises(ActionRefused) as anonymous:
        surveys.answer_survey(ANONYMOUS, survey.consultation.id, survey.answers())
    consultations.close(actor(world.manager), survey.consultation.id)
    with pytest.raises(ActionRefused) as closed:
        answer(survey, world.anna)

    assert anonymous.value.code == "guests_comment_only"
    assert closed.value.code == "closed"


# --- results ----------------------------------------------------------------------------------------------------


def _three_answer(world, survey) -> None:
    answer(survey, world.anna, way="Zu Fuß", missing=["Bänke", "Bäume"], rating="5", remarks="Mehr Grün")
    answer(survey, world.ben, way="Zu Fuß", missing=["Bäume"], rating="2")
    answer(survey, world.newcomer, way="Mit dem Rad", missing=["Bäume"], rating="5", remarks="Wasser")


def test_the_results_count_options_scale_steps_and_the_mean(world):
    survey = make_survey(world)
    _three_answer(world, survey)
    later = utcnow() + 11 * DAY  # the survey is over

    found = survey_results.survey_results(actor(world.ben), survey.consultation.id, now=later)

    assert (found.public, found.respondents, found.texts_shown) == (True, 3, False)
    way, missing, rating, remarks = found.questions
    assert [(b.label, b.count, round(b.share, 2)) for b in way.bars] == [
        ("Zu Fuß", 2, 0.67),
        ("Mit dem Rad", 1, 0.33),
        ("Mit Bus und Bahn", 0, 0.0),
    ]
    assert [(b.label, b.count) for b in missing.bars] == [("Bänke", 1), ("Bäume", 3), ("Toiletten", 0)]
    assert missing.answered == 3 and missing.bars[1].share == 1.0
    assert [(b.label, b.count) for b in rating.bars] == [
        ("1 – gar nicht wichtig", 0),
        ("2", 1),
        ("3", 0),
        ("4", 0),
        ("5 – sehr wichtig", 2),
    ]
    assert rating.mean == pytest.approx(4.0)
    assert (remarks.answered, remarks.texts) == (2, None)  # the public sees how many, not what


def test_the_managers_see_the_free_texts_without_author_and_before_the_survey_ends(world):
    survey = make_survey(world)
    _three_answer(world, survey)

    found = survey_results.survey_results(actor(world.manager), survey.consultation.id)
    page = survey_results.text_answers(actor(world.manager), survey.remarks.id, limit=1)

    assert (found.public, found.texts_shown) == (False, True)
    assert found.questions[3].texts == ["Mehr Grün", "Wasser"]
    assert page.page.items == ["Mehr Grün"] and page.page.next_cursor is not None
    rest = survey_results.text_answers(actor(world.manager), survey.remarks.id, cursor=page.page.next_cursor)
    assert (rest.page.items, rest.page.next_cursor) == (["Wasser"], None)
    with pytest.raises(Forbidden):
        survey_results.text_answers(actor(world.anna), survey.remarks.id)


def test_participants_see_the_results_only_once_the_survey_is_over(world):
    survey = make_survey(world)
    answer(survey, world.anna)

    with pytest.raises(ParticipationError) as early:
        survey_results.survey_results(actor(world.anna), survey.consultation.id)
    consultations.close(actor(world.manager), survey.consultation.id)
    closed = survey_results.survey_results(actor(world.anna), survey.consultation.id)

    assert (early.value.code, early.value.status) == ("results_not_yet", 403)
    assert str(early.value.message).startswith("Die Ergebnisse erscheinen, sobald die Umfrage beendet ist: am ")
    assert closed.public and closed.respondents == 1


def test_the_results_take_the_same_number_of_queries_however_many_answered(world):
    survey = make_survey(world)
    answer(survey, world.anna, remarks="Eins")
    manager, consultation_id = actor(world.manager), survey.consultation.id
    db.session.expire_all()  # as a request finds it: nothing of an earlier transaction in memory
    with count_queries() as few:
        survey_results.survey_results(manager, consultation_id)
    for i in range(12):
        person = make_person(f"person{i}@example.org")
        answer(survey, person, remarks=f"Text {i}", missing=["Bänke", "Toiletten"])
    db.session.expire_all()
    with count_queries() as many:
        found = survey_results.survey_results(manager, consultation_id)

    assert found.respondents == 13
    assert len(many) == len(few)
    assert sum("participation_survey" in statement for statement in many) == 7
