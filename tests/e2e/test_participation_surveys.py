"""Surveys and draft texts in a real browser: a citizen answers a survey (errors first) and comments a paragraph
of a draft; the manager reads the results with their charts and opens the question and draft editors; axe-core
scans every page on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in, submit_main_form

pytestmark = pytest.mark.e2e


def _prepare(live: LiveServer) -> dict:
    import pyotp

    from portal.extensions import db
    from portal.timeutil import utcnow
    from tests.participation.builders import make_world
    from tests.participation.survey_builders import answer, make_draft, make_survey

    with live.app.app_context():
        world = make_world()
        survey = make_survey(world)
        answer(survey, world.ben, way="Mit dem Rad", missing=["Bänke"], rating="2", remarks="Mehr Wasser")
        draft, paragraphs = make_draft(world)
        world.manager.totp_secret, world.manager.totp_enabled_at = pyotp.random_base32(), utcnow()
        db.session.commit()
        return {
            "survey": survey.consultation.slug,
            "survey_id": survey.consultation.id,
            "draft": draft.slug,
            "draft_id": draft.id,
            "paragraph": paragraphs[0].id,
            "secret": world.manager.totp_secret,
        }


def test_a_citizen_answers_a_survey_and_comments_a_paragraph_on_accessible_pages(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD

    live = live_server
    data = _prepare(live)
    sign_in(page, live, "anna@example.org", PASSWORD)

    goto(page, live(f"/beteiligung/{data['survey']}"))
    page.get_by_role("link", name="Zur Umfrage").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Umfrage")
    assert_accessible(page, "survey form")
    submit_main_form(page)
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "survey form with errors")
    page.get_by_label("Zu Fuß").check()
    page.get_by_label("Bäume").check()
    page.get_by_label("4", exact=True).check()
    page.get_by_label("4. Was möchten Sie uns noch sagen?").fill("Schatten!")
    page.get_by_role("button", name="Antworten absenden").click()
    expect(page.get_by_text("Sie haben an dieser Umfrage teilgenommen. Vielen Dank!")).to_be_visible()
    assert_accessible(page, "survey answered")

    goto(page, live(f"/beteiligung/{data['draft']}/entwurf"))
    assert_accessible(page, "draft")
    goto(page, live(f"/beteiligung/{data['draft']}/entwurf/{data['paragraph']}"))
    assert_accessible(page, "paragraph")
    page.fill("#body", "Gilt das auch für Spielplätze?")
    page.get_by_role("button", name="Kommentar veröffentlichen").click()
    expect(page.get_by_text("Danke! Ihr Beitrag ist veröffentlicht.")).to_be_visible()
    goto(page, live(f"/beteiligung/{data['draft']}/entwurf/{data['paragraph']}"))
    expect(page.get_by_role("heading", name="Kommentare zu diesem Absatz (1)")).to_be_visible()
    assert_accessible(page, "paragraph with a comment")


def test_the_manager_reads_the_results_and_opens_the_editors_on_accessible_pages(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD

    live = live_server
    data = _prepare(live)
    sign_in(page, live, "planung@stadt.example", PASSWORD, data["secret"])

    goto(page, live(f"/beteiligung/{data['survey']}/umfrage/ergebnisse"))
    expect(page.get_by_role("img", name="Balkendiagramm: Wie kommen Sie zum Altmarkt?")).to_be_visible()
    assert_accessible(page, "results with charts")
    goto(page, live(f"/admin/beteiligung/{data['survey_id']}/umfrage"))
    assert_accessible(page, "survey editor (read-only)")
    goto(page, live(f"/admin/beteiligung/{data['draft_id']}/entwurf"))
    assert_accessible(page, "draft editor (read-only)")
    # The other way round, neither has begun: the survey without a draft phase, the draft without a survey.
    goto(page, live(f"/admin/beteiligung/{data['survey_id']}/entwurf"))
    expect(page.get_by_label("Text des Entwurfs")).to_be_visible()
    assert_accessible(page, "draft editor")
    goto(page, live(f"/admin/beteiligung/{data['draft_id']}/umfrage/neu"))
    page.get_by_role("button", name="Frage speichern").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "question form with errors")
