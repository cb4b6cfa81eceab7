"""Official answers in a real browser: a consultation manager answers a proposal (errors first), notes progress,
and a citizen reads the answer and its history on the proposal page; axe-core scans every page on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import LiveServer, assert_accessible, forget_person, goto, sign_in

pytestmark = pytest.mark.e2e


def _prepare(live: LiveServer) -> dict:
    import pyotp

    from participation.services import answers, supports
    from portal.extensions import db
    from portal.timeutil import utcnow
    from tests.participation.builders import actor, make_consultation, make_proposal, make_world

    with live.app.app_context():
        world = make_world()
        consultation = make_consultation(world, support_threshold=1)
        proposal = make_proposal(world, consultation, title="Trinkbrunnen am Markt")
        supports.support(actor(world.ben), proposal.id)
        other = make_proposal(world, consultation, title="Fahrradbügel", user=world.ben)
        answers.answer(actor(world.manager), other.id, "rejected", "Dafür fehlt der Platz.")
        world.manager.totp_secret, world.manager.totp_enabled_at = pyotp.random_base32(), utcnow()
        db.session.commit()
        return {
            "consultation": consultation.id,
            "slug": consultation.slug,
            "reference": proposal.reference,
            "secret": world.manager.totp_secret,
        }


def test_answer_and_progress_with_every_page_accessible(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD

    live = live_server
    data = _prepare(live)
    sign_in(page, live, "planung@stadt.example", PASSWORD, data["secret"])

    goto(page, live(f"/admin/beteiligung/{data['consultation']}"))
    page.get_by_role("link", name="Vorschläge beantworten und Umsetzung mitteilen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vorschläge beantworten")
    assert_accessible(page, "answer list, waiting")
    goto(page, live(f"/admin/beteiligung/{data['consultation']}/antworten?zeigen=beantwortet"))
    assert_accessible(page, "answer list, answered")

    goto(page, live(f"/admin/beteiligung/{data['consultation']}/antworten"))
    page.get_by_role("link", name="Trinkbrunnen am Markt").click()
    assert_accessible(page, "answer page")
    page.fill("#answer-text", "Der Brunnen kommt im Mai.")
    page.get_by_role("button", name="Antwort veröffentlichen").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "answer page with errors")
    page.get_by_label("Angenommen").check()
    page.get_by_role("button", name="Antwort veröffentlichen").click()
    expect(page.locator(".site-flash").first).to_contain_text("Die Antwort ist veröffentlicht.")
    page.get_by_label("In Umsetzung").check()
    page.fill("#progress-text", "Der Wasseranschluss ist beauftragt.")
    page.get_by_role("button", name="Stand veröffentlichen").click()
    expect(page.locator(".site-flash").first).to_contain_text("Stand der Umsetzung ist veröffentlicht")
    assert_accessible(page, "answer page with history")

    forget_person(page)
    goto(page, live(f"/beteiligung/{data['slug']}/vorschlaege/{data['reference']}"))
    main = page.locator("main")
    expect(main).to_contain_text("Antwort der Verwaltung")
    expect(main).to_contain_text("Der Brunnen kommt im Mai.")
    expect(main).to_contain_text("Der Wasseranschluss ist beauftragt.")
    assert_accessible(page, "proposal page with answer and history")
    goto(page, live(f"/beteiligung/{data['slug']}?antwort=beantwortet"))
    expect(page.locator("main")).to_contain_text("Antwort: Abgelehnt")
    assert_accessible(page, "proposal list filtered by answer")
