"""The council report of a consultation: participation per week, top proposals, categories, survey results,
moderation figures and official answers in one PDF, in the reader's language, naming no participant; only for
those who moderate the consultation, and audited."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from pypdf import PdfReader
from werkzeug.exceptions import Forbidden

from participation.services import report, report_figures
from portal.extensions import db
from portal.timeutil import to_berlin, utcnow
from tests.participation.builders import World, actor, events
from tests.participation.results_helpers import (
    ANSWER_TEXT,
    FREE_TEXT,
    HIDDEN_TEXT,
    HIDDEN_TITLE,
    Scenario,
    make_scenario,
)
from tests.portal.admin.conftest import sign_in


@pytest.fixture
def scenario(world: World) -> Scenario:
    found = make_scenario(world)
    for user in (world.manager, world.other_manager, found.moderator):
        user.totp_enabled_at = utcnow()
    db.session.commit()
    return found


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _report(scenario: Scenario, who=None, language: str = "de") -> str:
    return _text(report.council_report(actor(who or scenario.world.manager), scenario.consultation.id, language).pdf)


def _week(moment) -> str:
    day = to_berlin(moment).date()
    year, week, _ = day.isocalendar()
    return f"KW {week}/{year}"


def test_the_report_shows_the_figures_top_proposals_survey_moderation_and_answers(scenario):
    text = _report(scenario)
    assert "Bericht zum Beteiligungsverfahren" in text
    assert "Neugestaltung des Altmarkts" in text and "Stadtplanungsamt" in text and "Altstadt" in text

    now = utcnow()
    for moment in (now - timedelta(days=14), now - timedelta(days=7), now):  # the empty week in between too
        assert _week(moment) in text

    top = text.index("Die meistunterstützten Vorschläge")
    assert text.index(scenario.trees.reference, top) < text.index(scenario.formula.reference, top)  # 2 before 1
    assert "Kategorien" in text and "Grün" in text and "Verkehr" in text

    survey = text.index("Umfrage", text.index("Kategorien"))
    assert text.index("Wie kommen Sie zum Altmarkt?", survey) < text.index("Zu Fuß", survey)
    assert "50 %" in text and "Mittelwert: 4" in text
    assert "2 Antwortbögen." in text
    assert "1 Freitextantwort." in text and FREE_TEXT not in text  # counted, never quoted

    assert "Jetzt ausgeblendete Beiträge" in text
    answers = text.index("Antworten der Verwaltung")
    assert text.index(scenario.trees.reference, answers) < text.index(ANSWER_TEXT, answers)
    assert "Angenommen, beantwortet am" in text


def test_the_report_names_no_participant_and_leaves_hidden_texts_out(scenario):
    text = _report(scenario)
    for personal in scenario.personal_data():
        assert personal not in text
    assert HIDDEN_TEXT not in text and HIDDEN_TITLE not in text
    assert "Mehr Bäume am Altmarkt" in text  # the search looks at the right text


def test_participation_is_counted_per_berlin_week_with_published_contributions_only(scenario):
    weeks = report_figures.weekly(scenario.consultation.id)
    assert [(w.proposals, w.comments, w.supports) for w in weeks] == [
        (1, 0, 0),  # the backdated proposal
        (0, 0, 0),
        (1, 3, 3),  # the hidden proposal, the hidden and the pending comment are not counted
    ]
    assert all(w.monday.weekday() == 0 for w in weeks)


def test_the_report_follows_the_readers_language(scenario, client):
    english = _report(scenario, language="en")
    assert "Page 1 of" in english and "Created on" in english
    assert "Seite 1 von" in _report(scenario)

    sign_in(client, scenario.world.manager)
    client.set_cookie("sp_lang", "en")
    response = client.get(f"/admin/beteiligung/{scenario.consultation.id}/bericht.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"bericht-{scenario.consultation.slug}.pdf" in response.headers["Content-Disposition"]
    assert "Page 1 of" in _text(response.data)


def test_a_moderator_sees_the_survey_results_only_once_the_survey_is_over(scenario):
    text = _report(scenario, scenario.moderator)
    assert "Die Ergebnisse erscheinen, sobald die Umfrage beendet ist." in text
    assert "Zu Fuß" not in text
    assert "Jetzt ausgeblendete Beiträge" in text  # the rest of the report is theirs


def test_another_departments_manager_gets_no_report_and_each_report_is_audited(scenario):
    with pytest.raises(Forbidden):
        report.council_report(actor(scenario.world.other_manager), scenario.consultation.id, "de")
    with pytest.raises(Forbidden):
        report.council_report(actor(scenario.world.anna), scenario.consultation.id, "de")
    assert events("participation.exported") == []

    _report(scenario, language="en")
    [event] = events("participation.exported")
    assert json.loads(event.details) == {
        "consultation": scenario.consultation.slug,
        "format": "pdf",
        "language": "en",
        "rows": {"proposals": 2, "comments": 3, "supports": 3, "answers": 1},
    }
    assert event.actor_id == actor(scenario.world.manager).id
