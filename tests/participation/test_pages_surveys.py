"""The survey pages: the participants' form (KERN radios, checkboxes, a scale row, a text box; errors next to
their question with what was chosen kept; one answer set), the results as charts with their table, and the
managers' question editor."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from participation.models_surveys import SurveyQuestion, SurveyResponse
from participation.services import consultations
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import csrf_from
from tests.participation.builders import DAY, World, actor
from tests.participation.survey_builders import answer, make_survey
from tests.portal.audit.helpers import sign_in

XSS = '<script>alert("x")</script>'


@pytest.fixture
def staff(world: World) -> World:
    """The managers with their second factor set up (the pages send others to the setup)."""
    for user in (world.manager, world.other_manager):
        user.totp_enabled_at = utcnow()
    db.session.commit()
    return world


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _post(client, url: str, data: dict):
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data})


def _form(survey, **choices) -> dict:
    """The survey's answers as the browser sends them: frage-<id>, a list for checkboxes."""
    return {f"frage-{question_id}": value for question_id, value in survey.answers(**choices).items()}


def _responses() -> int:
    return db.session.scalar(sa.select(sa.func.count(SurveyResponse.id)))


# --- the participants' form ---------------------------------------------------------------------------------------


def test_the_form_shows_every_question_with_kern_controls(client, world):
    survey = make_survey(world)
    sign_in(client, world.anna)

    html = _text(client.get(f"/beteiligung/{survey.consultation.slug}/umfrage"))

    way, rating, remarks = survey.way, survey.rating, survey.remarks
    assert '<legend class="kern-label">1. Wie kommen Sie zum Altmarkt?</legend>' in html
    assert f'type="radio" id="frage-{way.id}-{survey.option(way, "Zu Fuß")}" name="frage-{way.id}"' in html
    assert f'type="checkbox" id="frage-{survey.missing.id}-' in html and "Mehrere Antworten möglich." in html
    assert "kern-fieldset__body kern-fieldset__body--horizontal" in html
    assert f'id="frage-{rating.id}-hint">1 = gar nicht wichtig, 5 = sehr wichtig</div>' in html
    assert '1<span class="kern-sr-only"> – gar nicht wichtig</span>' in html
    assert f'<textarea class="kern-form-input__input" id="frage-{remarks.id}" name="frage-{remarks.id}"' in html
    assert '4. Was möchten Sie uns noch sagen? <span class="kern-label__optional">– optional</span>' in html
    assert 'name="csrf_token"' in html


def test_missing_answers_come_back_next_to_their_questions_with_the_choices_kept(client, world):
    survey = make_survey(world)
    sign_in(client, world.anna)
    url = f"/beteiligung/{survey.consultation.slug}/umfrage"
    sent = _form(survey, missing=["Bänke", "Toiletten"], rating="", remarks=XSS)
    sent.pop(f"frage-{survey.way.id}")

    response = _post(client, url, sent)

    html = _text(response)
    assert response.status_code == 422
    assert "<title>Fehler: Umfrage" in html and "Bitte korrigieren Sie Ihre Eingaben" in html
    assert f'href="#frage-{survey.way.id}">Wie kommen Sie zum Altmarkt?: Wählen Sie eine Antwort.</a>' in html
    assert f'href="#frage-{survey.rating.id}">' in html
    assert re.search(rf'<p class="kern-error" id="frage-{survey.way.id}-error">.*?Wählen Sie eine Antwort\.', html)
    assert f'aria-describedby="frage-{survey.way.id}-error"' in html
    for label in ("Bänke", "Toiletten"):
        option = survey.option(survey.missing, label)
        assert (
            f'id="frage-{survey.missing.id}-{option}" name="frage-{survey.missing.id}" value="{option}" checked' in html
        )
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</textarea>" in html
    assert XSS not in html
    assert _responses() == 0


def test_answering_stores_the_set_and_a_second_submission_hears_it_has_taken_part(client, world):
    survey = make_survey(world)
    sign_in(client, world.anna)
    url = f"/beteiligung/{survey.consultation.slug}/umfrage"

    done = _post(client, url, _form(survey))
    thanks = _text(client.get(done.headers["Location"]))
    again = client.post(url, data={"csrf_token": csrf_from(thanks), **_form(survey, way="Mit dem Rad")})

    assert done.status_code == 303 and done.headers["Location"].endswith(url)
    assert "Danke! Ihre Antworten sind gespeichert." in thanks
    assert "Sie haben an dieser Umfrage teilgenommen. Vielen Dank!" in thanks
    assert "Die Ergebnisse erscheinen hier, sobald die Umfrage beendet ist." in thanks
    assert 'name="frage-' not in thanks  # no form any more
    assert again.status_code == 409
    assert "Sie haben schon teilgenommen: Je Person zählt eine Antwort." in _text(again)
    assert _responses() == 1


def test_outside_the_phase_the_page_says_when_the_survey_opens_and_refuses_a_post(client, world):
    survey = make_survey(world, start=2 * DAY, end=5 * DAY)
    sign_in(client, world.anna)
    url = f"/beteiligung/{survey.consultation.slug}/umfrage"

    page = client.get(url)
    token = csrf_from(page.get_data(as_text=True))
    refused = client.post(url, data={"csrf_token": token, **_form(survey)})

    html = _text(page)
    assert "An der Umfrage können Sie gerade nicht teilnehmen" in html
    assert "An der Umfrage teilnehmen ist ab dem " in html
    assert "<li>Wie kommen Sie zum Altmarkt?</li>" in html and 'name="frage-' not in html
    assert refused.status_code == 409 and _responses() == 0


def test_without_an_account_the_page_asks_to_sign_in(client, world):
    survey = make_survey(world)

    html = _text(client.get(f"/beteiligung/{survey.consultation.slug}/umfrage"))

    assert "Bitte melden Sie sich an, um mitzumachen." in html
    assert re.search(r'href="[^"]*/anmelden\?next=[^"]*umfrage">Anmelden</a>', html)
    assert 'name="frage-' not in html


def test_the_consultation_page_links_to_the_survey(client, world):
    survey = make_survey(world)
    sign_in(client, world.anna)

    html = _text(client.get(f"/beteiligung/{survey.consultation.slug}"))

    assert f'href="/beteiligung/{survey.consultation.slug}/umfrage">Zur Umfrage</a>' in html
    assert "<strong>An der Umfrage teilnehmen:</strong> jetzt möglich." in html
    assert "/umfrage/ergebnisse" not in html  # not out yet


# --- results ----------------------------------------------------------------------------------------------------


def test_the_results_page_draws_bars_with_a_table_of_the_same_figures_once_closed(client, world):
    survey = make_survey(world)
    answer(survey, world.anna, way="Zu Fuß", rating="5", remarks=XSS)
    answer(survey, world.ben, way="Mit dem Rad", rating="2")
    consultations.close(actor(world.manager), survey.consultation.id)
    sign_in(client, world.newcomer)

    html = _text(client.get(f"/beteiligung/{survey.consultation.slug}/umfrage/ergebnisse"))

    way = survey.way.id
    assert "2 Personen haben teilgenommen." in html
    assert f'<svg role="img" aria-labelledby="chart-{way}-title chart-{way}-desc"' in html
    assert f'<title id="chart-{way}-title">Balkendiagramm: Wie kommen Sie zum Altmarkt?</title>' in html
    assert "Die Tabelle darunter enthält dieselben Zahlen." in html
    assert 'width="240.0" height="14"' in html  # half of the 480 track: one of two
    assert re.search(r'<th class="kern-table__cell" scope="row">Zu Fuß</th> <td class="kern-table__cell">1</td> '
                     r'<td class="kern-table__cell">50 %</td>', html)  # fmt: skip
    assert "Mittelwert: 3,5 auf der Skala von 1 bis 5." in html
    assert "werden nicht einzeln veröffentlicht" in html and "alert(" not in html  # free texts stay internal
    consultation_page = _text(client.get(f"/beteiligung/{survey.consultation.slug}"))
    assert "Ergebnisse der Umfrage</a>" in consultation_page


def test_before_the_end_participants_read_when_the_results_come_and_managers_see_them(client, staff):
    survey = make_survey(staff)
    answer(survey, staff.anna, remarks=XSS)
    url = f"/beteiligung/{survey.consultation.slug}/umfrage/ergebnisse"

    sign_in(client, staff.anna)
    early = _text(client.get(url))
    sign_in(client, staff.manager)
    managers = _text(client.get(url))

    assert "Die Ergebnisse erscheinen, sobald die Umfrage beendet ist: am " in early
    assert "<svg" not in early
    assert "Zwischenstand: Nur die Verwaltung sieht diese Seite" in managers
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in managers and XSS not in managers


# --- the managers' editor ---------------------------------------------------------------------------------------


def test_a_manager_adds_a_question_and_sees_it_listed(client, staff):
    survey = make_survey(staff, start=2 * DAY, end=5 * DAY)
    sign_in(client, staff.manager)
    base = f"/admin/beteiligung/{survey.consultation.id}/umfrage"

    response = _post(client, base + "/neu", {"kind": "single", "text": "Wie oft?", "options": "Oft\nSelten"})
    listed = _text(client.get(base))

    assert response.status_code == 303
    assert "<strong>Wie oft?</strong>" in listed and "<li>Selten</li>" in listed
    assert "Frage hinzufügen" in listed
    consultation_page = _text(client.get(f"/admin/beteiligung/{survey.consultation.id}"))
    assert f'href="{base}">Umfrage: Fragen und Ergebnisse</a>' in consultation_page


def test_the_question_editor_shows_errors_next_to_the_field_with_what_was_typed(client, staff):
    survey = make_survey(staff, publish=False)
    sign_in(client, staff.manager)
    url = f"/admin/beteiligung/{survey.consultation.id}/umfrage/neu"

    response = _post(client, url, {"kind": "multiple", "text": XSS, "options": "Nur eine"})

    html = _text(response)
    assert response.status_code == 422
    assert 'href="#options">Antworten zur Auswahl: Geben Sie mindestens zwei Antworten an, eine je Zeile.</a>' in html
    assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in html
    assert db.session.scalar(sa.select(sa.func.count(SurveyQuestion.id))) == 4


def test_once_the_survey_has_begun_the_editor_is_read_only(client, staff):
    survey = make_survey(staff)
    sign_in(client, staff.manager)
    base = f"/admin/beteiligung/{survey.consultation.id}/umfrage"

    html = _text(client.get(base))
    token = csrf_from(html)
    refused = client.post(f"{base}/{survey.way.id}", data={"csrf_token": token, "kind": "text", "text": "Anders?"})

    assert "Die Umfrage hat begonnen" in html and "Frage hinzufügen" not in html and "Bearbeiten" not in html
    assert refused.status_code == 303 and refused.headers["Location"].endswith(base)
    assert "Die Fragen lassen sich nur ändern, bis die Umfrage beginnt." in _text(client.get(base))
    db.session.expire_all()
    assert db.session.get(SurveyQuestion, survey.way.id).text == "Wie kommen Sie zum Altmarkt?"


def test_another_departments_manager_may_not_open_the_editor(client, staff):
    survey = make_survey(staff, publish=False)
    sign_in(client, staff.other_manager)

    assert client.get(f"/admin/beteiligung/{survey.consultation.id}/umfrage").status_code == 403
    assert client.get(f"/admin/beteiligung/{survey.consultation.id}/entwurf").status_code == 403
