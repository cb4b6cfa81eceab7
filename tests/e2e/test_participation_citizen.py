"""A citizen takes part in a real browser: reads the list and a consultation, proposes (errors first, then the
similar proposals, then "Trotzdem einreichen"), comments, replies and supports; axe-core scans every page. The
proposal form also works without JavaScript (the map's text alternative); axe itself needs JavaScript, so that
run checks what the person sees, not axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in, submit_main_form

pytestmark = pytest.mark.e2e


def _prepare(live: LiveServer) -> dict:
    import json

    from tests.participation.builders import make_comment, make_consultation, make_proposal, make_world

    area = {
        "type": "Polygon",
        "coordinates": [
            [[13.7373, 51.0504], [13.7386, 51.0504], [13.7386, 51.0512], [13.7373, 51.0512], [13.7373, 51.0504]]
        ],
    }
    with live.app.app_context():
        world = make_world()
        consultation = make_consultation(
            world,
            district="Altstadt",
            topic="Stadtplatz",
            categories=["Grün", "Verkehr"],
            contact_name="Frau Planer",
            contact_email="planung@stadt.example",
            area_geojson=json.dumps(area),
            support_threshold=10,
        )
        proposal = make_proposal(world, consultation, world.ben, title="Mehr Bäume auf dem Altmarkt", lat=51.0505,
                                 lon=13.7375, category="Grün")  # fmt: skip
        top = make_comment(world, consultation, world.ben, proposal_id=proposal.id, body="Schatten!", stance="pro")
        make_comment(world, consultation, parent_id=top.id, body="Unbedingt.")
        return {"slug": consultation.slug, "reference": proposal.reference}


def test_a_citizen_proposes_comments_and_supports_on_accessible_pages(page: Page, live_server: LiveServer):
    live = live_server
    data = _prepare(live)
    consultation = f"/beteiligung/{data['slug']}"
    proposal = f"{consultation}/vorschlaege/{data['reference']}"

    goto(page, live("/beteiligung/"))
    assert_accessible(page, "list")
    goto(page, live("/beteiligung/?liste=vorhaben"))
    assert_accessible(page, "Vorhabenliste")
    goto(page, live(consultation))
    expect(page.get_by_role("heading", level=1)).to_have_text("Neugestaltung des Altmarkts")
    assert_accessible(page, "consultation")

    from tests.builders import PASSWORD

    sign_in(page, live, "anna@example.org", PASSWORD)
    goto(page, live(f"{consultation}/vorschlag"))
    assert_accessible(page, "proposal form")
    submit_main_form(page)
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "proposal form with errors")
    page.fill("#title", "Bäume und Bänke am Altmarkt")
    page.fill("#body", "Schatten und Sitzplätze für alle.")
    page.select_option("#category", "Grün")
    submit_main_form(page)
    expect(page.get_by_text("Ähnliche Vorschläge gibt es schon")).to_be_visible()
    assert_accessible(page, "similar proposals")
    page.get_by_role("button", name="Trotzdem einreichen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Vorschlag ist eingereicht")
    assert_accessible(page, "confirmation")

    goto(page, live(proposal))
    assert_accessible(page, "proposal page")
    page.get_by_role("button", name="Vorschlag unterstützen").click()
    expect(page.get_by_text("1 Person unterstützt diesen Vorschlag.")).to_be_visible()
    page.fill("#body", "Gern auch mit Trinkbrunnen.")
    page.get_by_label("Dafür").check()
    page.get_by_role("button", name="Kommentar veröffentlichen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Beitrag und Antworten")
    assert_accessible(page, "comment page with reply form")
    page.fill("#body", "Und mit Schatten für die Bänke.")
    page.get_by_role("button", name="Antwort veröffentlichen").click()
    expect(page.locator("main")).to_contain_text("Und mit Schatten für die Bänke.")
    page.get_by_role("link", name="Bearbeiten").first.click()
    assert_accessible(page, "edit comment")

    goto(page, live("/konto/beteiligung"))
    expect(page.locator("main")).to_contain_text("Bäume und Bänke am Altmarkt")
    assert_accessible(page, "Meine Beteiligung")


def test_the_proposal_form_without_javascript_takes_coordinates(
    browser: Browser, browser_context_args: dict, live_server: LiveServer
):
    live = live_server
    data = _prepare(live)
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        from tests.builders import PASSWORD

        sign_in(page, live, "anna@example.org", PASSWORD)
        goto(page, live(f"/beteiligung/{data['slug']}/vorschlag"))
        expect(page.locator("#place-map")).to_be_hidden()
        page.fill("#title", "Fahrradbügel vor dem Rathaus")
        page.fill("#body", "Es fehlen Abstellplätze.")
        page.fill("#place-coordinates", "51.0504, 13.7373")
        submit_main_form(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Vorschlag ist eingereicht")
        page.get_by_role("link", name="Ihren Vorschlag ansehen").click()
        expect(page.locator("main")).to_contain_text("Punkt bei 51,0504° N, 13,7373° O")
    finally:
        context.close()
