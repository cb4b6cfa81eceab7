"""The participation pages with maps, seen without JavaScript, scanned by axe-core: the proposal form (its map
input falls back to street and coordinates; an image is uploaded and kept through the similar-proposals step),
the proposal with its place and image, and the consultation with its area.

axe needs JavaScript, so each page seen without it is scanned as a copy in a second tab that has it, loaded on
our origin (the same style sheets apply, so colour contrast is checked too), with the page's scripts taken out so
that the copy stays what the person without JavaScript sees.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.builders import PASSWORD
from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in, submit_main_form

pytestmark = pytest.mark.e2e

SCRIPT_RE = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
NOSCRIPT_RE = re.compile(r"</?noscript\b[^>]*>", re.IGNORECASE)
AREA = {
    "type": "Polygon",
    "coordinates": [
        [[13.7373, 51.0504], [13.7386, 51.0504], [13.7386, 51.0512], [13.7373, 51.0512], [13.7373, 51.0504]]
    ],
}


@pytest.fixture
def page_without_js(browser: Browser, browser_context_args: dict) -> Iterator[Page]:
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def without_scripts(html: str) -> str:
    """The page as a browser without JavaScript renders it: no scripts (in a copy they would run: the copy in
    the scanning tab loaded and ran the map's script), and what <noscript> holds shown as ordinary content."""
    html = SCRIPT_RE.sub("", html)
    return NOSCRIPT_RE.sub("", html)


class Scanner:
    """Scans what a page without JavaScript shows, as a copy in a tab with JavaScript on our origin."""

    def __init__(self, page: Page, live: LiveServer) -> None:
        self.page = page
        goto(page, live("/impressum"))

    def __call__(self, seen: Page, label: str) -> None:
        self.page.set_content(without_scripts(seen.content()), wait_until="load")
        # The copy shows what the page without JavaScript showed: the map canvas stays hidden, no script ran.
        assert self.page.locator("[data-map-input]:not([hidden]), [data-map-view]:not([hidden])").count() == 0
        assert_accessible(self.page, label)


def _prepare(live: LiveServer) -> dict:
    from tests.participation.builders import make_consultation, make_proposal, make_world

    with live.app.app_context():
        world = make_world()
        consultation = make_consultation(
            world,
            district="Altstadt",
            categories=["Grün", "Verkehr"],
            contact_name="Frau Planer",
            contact_email="planung@stadt.example",
            area_geojson=json.dumps(AREA),
        )
        make_proposal(world, consultation, world.ben, title="Mehr Bäume auf dem Altmarkt", lat=51.0505, lon=13.7375)
        return {"slug": consultation.slug}


def _image(tmp_path: Path) -> Path:
    from tests.portal.files import samples

    path = tmp_path / "altmarkt.png"
    path.write_bytes(samples.png(320, 200))
    return path


def test_the_map_pages_without_javascript_are_accessible(
    page_without_js: Page, page: Page, live_server: LiveServer, tmp_path: Path
):
    live = live_server
    data = _prepare(live)
    scan = Scanner(page, live)
    nojs = page_without_js
    consultation = f"/beteiligung/{data['slug']}"

    goto(nojs, live(consultation))
    expect(nojs.get_by_role("heading", level=1)).to_have_text("Neugestaltung des Altmarkts")
    expect(nojs.locator("[data-map-view]")).to_be_hidden()
    expect(nojs.locator("main")).to_contain_text("Fläche von etwa")  # the area in words instead of the map
    scan(nojs, "consultation with its area, without JavaScript")

    sign_in(nojs, live, "anna@example.org", PASSWORD)
    goto(nojs, live(f"{consultation}/vorschlag"))
    expect(nojs.locator("#place-map")).to_be_hidden()
    expect(nojs.get_by_label("Straße und Hausnummer")).to_be_visible()
    scan(nojs, "proposal form without JavaScript")

    nojs.fill("#place-coordinates", "91, 200")
    nojs.set_input_files("#image", str(_image(tmp_path)))
    submit_main_form(nojs)
    expect(nojs.locator("#error-summary")).to_be_visible()
    expect(nojs.locator("#image_alt-error")).to_contain_text("was auf dem Bild zu sehen ist")
    expect(nojs.locator("main")).to_contain_text("Ihr Bild „altmarkt.png“ ist übernommen.")
    scan(nojs, "proposal form with errors and a kept image, without JavaScript")

    nojs.fill("#title", "Bäume und Bänke am Altmarkt")
    nojs.fill("#body", "Schatten und Sitzplätze für alle.")
    nojs.fill("#place-coordinates", "51.0506, 13.7377")
    nojs.fill("#image_alt", "Der Altmarkt im Sommer, ohne Schatten")
    submit_main_form(nojs)
    expect(nojs.get_by_text("Ähnliche Vorschläge gibt es schon")).to_be_visible()
    expect(nojs.locator("main")).to_contain_text("ist übernommen")
    scan(nojs, "similar proposals with the kept image, without JavaScript")

    nojs.get_by_role("button", name="Trotzdem einreichen").click()
    expect(nojs.get_by_role("heading", level=1)).to_have_text("Ihr Vorschlag ist eingereicht")
    scan(nojs, "confirmation, without JavaScript")
    nojs.get_by_role("link", name="Ihren Vorschlag ansehen").click()
    expect(nojs.locator("main")).to_contain_text("Punkt bei 51,0506° N, 13,7377° O")
    image = nojs.get_by_role("img", name="Der Altmarkt im Sommer, ohne Schatten")
    expect(image).to_be_visible()
    scan(nojs, "proposal with place and image, without JavaScript")

    # The image is public now: a browser that is not signed in loads it (the scan's tab is one).
    src = image.get_attribute("src")
    assert src is not None and src.startswith("/beteiligung/bilder/")
    goto(page, live(f"{consultation}"))
    loaded = page.evaluate(
        "src => new Promise(done => { const i = new Image(); i.onload = () => done(i.naturalWidth); "
        "i.onerror = () => done(0); i.src = src; })",
        src,
    )
    assert loaded == 320
