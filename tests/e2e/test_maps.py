"""Maps in the browser: pin a point, draw an area, find an address; with tiles off, nothing leaves our origin."""

from __future__ import annotations

import json

import pytest
from flask import render_template_string
from flask_wtf import FlaskForm
from playwright.sync_api import Browser, Page, expect
from wtforms import StringField

from portal import access
from portal.maps.fields import GeoJSONField
from tests.e2e.helpers import LiveServer, assert_accessible, goto
from tests.portal.maps.builders import load_demo_streets

pytestmark = pytest.mark.e2e

PAGE = """{% extends "layout.html" %}{% from "macros/map.html" import map_input %}
{% from "macros/forms.html" import field, submit %}
{% block title %}Karte{% endblock %}{% block content %}<h1 class="kern-heading">Karte</h1>
{% if result %}<p id="result">{{ result }}</p>{% endif %}
<form method="post" novalidate>{{ form.csrf_token }}{% if form.street %}{{ field(form.street) }}{% endif %}
{{ map_input(form.place) }}{{ submit("Weiter") }}</form>
{% endblock %}"""


class PointForm(FlaskForm):
    place = GeoJSONField("Ort")


class AreaForm(FlaskForm):
    street = StringField("Straße und Hausnummer")
    place = GeoJSONField("Fläche", geometry="polygon", address_field="street")


def _serve(live: LiveServer, form_class: type[FlaskForm]) -> None:
    @access.public
    def view():
        form = form_class()
        result = ""
        if form.validate_on_submit():
            data = form.place.data
            result = json.dumps({"source": form.place.source, "type": data.type, "area": round(data.area_m2)})
        return render_template_string(PAGE, form=form, result=result)

    live.app.add_url_rule("/_test/karte", "test_map", view, methods=["GET", "POST"])
    with live.app.app_context():
        load_demo_streets()


@pytest.fixture
def foreign_requests(page: Page, live_server: LiveServer) -> list[str]:
    seen: list[str] = []
    page.on(
        "request", lambda request: seen.append(request.url) if not request.url.startswith(live_server.url) else None
    )
    return seen


def _result(page: Page) -> dict:
    return json.loads(page.locator("#result").text_content() or "{}")


def test_a_point_pinned_on_the_map_is_submitted(page: Page, live_server: LiveServer, foreign_requests):
    _serve(live_server, PointForm)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    goto(page, live_server("/_test/karte"))
    canvas = page.locator("#place-map")
    expect(canvas).to_be_visible()
    expect(page.locator("#place-map path.map-street").first).to_be_attached()  # no tiles: the street list is drawn
    canvas.click()  # the middle of the map: MAP_CENTER, the Rathausplatz
    expect(page.locator("#place-status")).to_contain_text("Ort gesetzt")
    expect(page.locator("#place-status")).to_contain_text("Nächste Adresse: Rathausplatz")
    assert page.locator("#place-coordinates").input_value().startswith("51.05")
    assert json.loads(page.locator("#place-geojson").input_value())["type"] == "Point"
    assert_accessible(page, "map with a pinned point")
    page.get_by_role("button", name="Weiter").click()
    assert _result(page) == {"source": "map", "type": "Point", "area": 0}
    assert errors == []
    assert foreign_requests == []


def test_an_address_typed_beside_the_map_places_the_pin(page: Page, live_server: LiveServer, foreign_requests):
    _serve(live_server, PointForm)
    goto(page, live_server("/_test/karte"))
    page.fill("#place-address", "rathauspl. 1")
    page.locator("#place-address").press("Tab")
    expect(page.locator("#place-status")).to_contain_text("Ort gesetzt: Rathausplatz 1, 01067 Altstadt.")
    assert page.locator("#place-map .leaflet-marker-icon").count() == 1
    page.get_by_role("button", name="Weiter").click()
    assert _result(page)["source"] == "map"
    assert foreign_requests == []


def test_an_area_is_drawn_corner_by_corner_with_undo(page: Page, live_server: LiveServer, foreign_requests):
    _serve(live_server, AreaForm)
    goto(page, live_server("/_test/karte"))
    page.fill("#street", "Rathausplatz 1")
    canvas = page.locator("#place-map")
    box = canvas.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in [(0, 0), (60, 0), (60, 40), (-80, 90)]:
        page.mouse.click(x + dx, y + dy)
    expect(page.locator("#place-status")).to_contain_text("4 Eckpunkte gesetzt")
    page.get_by_role("button", name="Letzten Eckpunkt entfernen").click()
    expect(page.locator("#place-status")).to_contain_text("3 Eckpunkte gesetzt. Fläche etwa")
    page.get_by_role("button", name="Weiter").click()
    result = _result(page)
    assert (result["source"], result["type"]) == ("map", "Polygon")
    assert result["area"] > 0
    assert foreign_requests == []


@pytest.fixture
def page_without_javascript(browser: Browser, browser_context_args: dict):
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_without_javascript_an_ambiguous_street_is_settled_by_choosing(
    page_without_javascript: Page, live_server: LiveServer
):
    page = page_without_javascript
    _serve(live_server, PointForm)
    goto(page, live_server("/_test/karte"))
    expect(page.locator("#place-map")).to_be_hidden()
    page.fill("#place-address", "Hauptstraße 5")
    page.get_by_role("button", name="Weiter").click()
    expect(page.locator("#place-error")).to_contain_text("Diese Straße gibt es mehrmals")
    page.get_by_label("Hauptstraße 5, 01097 Neustadt").check()
    page.get_by_role("button", name="Weiter").click()
    assert _result(page) == {"source": "address", "type": "Point", "area": 0}


def test_the_did_you_mean_choices_are_accessible_beside_the_map(page: Page, live_server: LiveServer):
    _serve(live_server, PointForm)
    goto(page, live_server("/_test/karte"))
    page.fill("#place-address", "Hauptstraße 5")
    page.locator("#place-address").press("Tab")
    expect(page.locator("#place-status")).to_contain_text("Meinten Sie")
    page.get_by_role("button", name="Weiter").click()
    expect(page.get_by_label("Hauptstraße 5, 01067 Altstadt")).to_be_visible()
    assert_accessible(page, "map form with address choices")
