"""GeoJSONField and the map macros: a place from the map, from typed coordinates or from street and house number,
the "which one did you mean?" choice without JavaScript, and what the page shows without JavaScript."""

from __future__ import annotations

import json
import re

import pytest
from flask import render_template_string
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import DataRequired

from portal import access
from portal.maps.fields import GeoJSONField
from portal.maps.geojson import point
from tests.portal.maps.builders import load_demo_streets

RING = [[13.7373, 51.0504], [13.7376, 51.0504], [13.7376, 51.0505], [13.7373, 51.0505], [13.7373, 51.0504]]
POLYGON = json.dumps({"type": "Polygon", "coordinates": [RING]})
MACROS = '{% from "macros/map.html" import map_input, map_view %}'


class PlaceForm(FlaskForm):
    place = GeoJSONField("Ort", validators=[DataRequired("Bitte geben Sie den Ort an.")])


class OptionalPlaceForm(FlaskForm):
    place = GeoJSONField("Ort")


class AreaForm(FlaskForm):
    street = StringField("Straße und Hausnummer")
    area = GeoJSONField("Fläche", geometry="polygon", address_field="street")


class StrictAreaForm(FlaskForm):
    area = GeoJSONField("Fläche", geometry="polygon", polygon_required=True)


@pytest.fixture
def streets(app):
    load_demo_streets()


def submit(app, form_class, data):
    with app.test_request_context(method="POST", data=MultiDict(data)):
        form = form_class(meta={"csrf": False})
        valid = form.validate()
        return valid, form


def render(app, template, **context):
    with app.test_request_context("/"):
        return render_template_string(MACROS + template, **context)


def test_without_javascript_street_and_house_number_give_the_place(app, streets):
    valid, form = submit(app, PlaceForm, {"place": "", "place-address": "Rathausplatz 1", "place-nojs": "1"})
    assert valid, form.errors
    assert form.place.source == "address"
    assert form.place.data.type == "Point"
    assert form.place.data.centre == pytest.approx((51.0504, 13.7373), abs=1e-4)
    assert form.place.geocoded.label == "Rathausplatz 1, 01067 Altstadt"


def test_typed_coordinates_give_the_place(app, streets):
    valid, form = submit(app, PlaceForm, {"place-coordinates": "51,0504 13,7373", "place-nojs": "1"})
    assert valid, form.errors
    assert (form.place.source, form.place.data) == ("coordinates", point(51.0504, 13.7373))


def test_a_drawn_polygon_comes_with_its_area(app, streets):
    valid, form = submit(app, AreaForm, {"area": POLYGON, "street": "Rathausplatz 1"})
    assert valid, form.errors
    assert form.area.source == "map"
    assert form.area.data.type == "Polygon"
    assert 230 < form.area.data.area_m2 < 240  # 21 m × 11 m


def test_with_javascript_the_map_wins_over_the_text(app, streets):
    pinned = json.dumps({"type": "Point", "coordinates": [13.7400, 51.0510]})
    valid, form = submit(app, PlaceForm, {"place": pinned, "place-address": "Rathausplatz 1"})
    assert valid
    assert (form.place.source, form.place.data.centre) == ("map", (51.051, 13.74))


def test_without_javascript_typed_text_wins_over_an_old_map_value(app, streets):
    old = json.dumps({"type": "Point", "coordinates": [13.7400, 51.0510]})
    valid, form = submit(app, PlaceForm, {"place": old, "place-address": "Am Markt 1", "place-nojs": "1"})
    assert valid
    assert form.place.source == "address"
    assert form.place.geocoded.street == "Am Markt"


def test_a_service_street_field_is_used_when_nothing_was_drawn(app, streets):
    valid, form = submit(app, AreaForm, {"street": "Kirchgasse 3", "area": ""})
    assert valid, form.errors
    assert (form.area.source, form.area.data.type) == ("address", "Point")
    # ... and a drawn area is not replaced by the street the service also asks for.
    valid, form = submit(app, AreaForm, {"street": "Kirchgasse 3", "area": POLYGON, "area-nojs": "1"})
    assert (form.area.source, form.area.data.type) == ("map", "Polygon")


def test_an_ambiguous_street_offers_the_candidates_and_the_choice_settles_it(app, streets):
    valid, form = submit(app, PlaceForm, {"place-address": "Hauptstraße 5", "place-nojs": "1"})
    assert not valid
    assert "Meinten Sie" in form.place.errors[0]
    assert [c.label for c in form.place.candidates] == [
        "Hauptstraße 5, 01067 Altstadt",
        "Hauptstraße 5, 01097 Neustadt",
    ]
    with render_context(app):
        html = render_template_string(MACROS + "{{ map_input(form.place) }}", form=form)
    assert 'name="place-choice" value="Hauptstraße 5, 01097 Neustadt"' in html
    assert "Meinten Sie eine dieser Adressen?" in html
    choice = {"place-address": "Hauptstraße 5", "place-choice": "Hauptstraße 5, 01097 Neustadt", "place-nojs": "1"}
    valid, form = submit(app, PlaceForm, choice)
    assert valid, form.errors
    assert form.place.geocoded.district == "Neustadt"


def render_context(app):
    return app.test_request_context("/")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"place-address": "Elbchaussee 1", "place-nojs": "1"}, "nicht zu finden"),
        ({"place-coordinates": "52.52, 13.40", "place-nojs": "1"}, "außerhalb des Stadtgebiets"),
        ({"place-coordinates": "irgendwo", "place-nojs": "1"}, "zum Beispiel 51.0504, 13.7373"),
        ({"place": "{kaputt"}, "kein gültiges JSON"),
        ({"place": POLYGON}, "nicht möglich"),  # a point field takes no polygon
        ({}, "Bitte geben Sie den Ort an."),
        ({"place-address": "\x00\x00", "place-nojs": "1"}, "Bitte geben Sie den Ort an."),  # NUL bytes are nothing
    ],
)
def test_what_cannot_be_placed_is_said_next_to_the_field(app, streets, data, message):
    valid, form = submit(app, PlaceForm, data)
    assert not valid
    assert len(form.place.errors) == 1
    assert message in form.place.errors[0]


def test_an_optional_place_may_stay_empty(app):
    valid, form = submit(app, OptionalPlaceForm, {"place": ""})
    assert valid
    assert form.place.data is None


def test_an_area_that_must_be_drawn_refuses_a_point(app, streets):
    valid, form = submit(app, StrictAreaForm, {"area-address": "Rathausplatz 1", "area-nojs": "1"})
    assert not valid
    assert form.area.errors == ["Bitte zeichnen Sie die Fläche in die Karte ein."]


def test_the_page_without_javascript_has_labelled_text_inputs(app):
    with app.test_request_context("/"):
        html = render_template_string(MACROS + "{{ map_input(form.place) }}", form=PlaceForm(meta={"csrf": False}))
    assert re.search(r'<legend class="kern-label">Ort</legend>', html)
    assert '<label class="kern-label" for="place-address">Straße und Hausnummer</label>' in html
    assert '<input class="kern-form-input__input" type="text" id="place-address" name="place-address"' in html
    assert '<label class="kern-label" for="place-coordinates">Oder Koordinaten (Breite, Länge)</label>' in html
    assert '<noscript><input type="hidden" name="place-nojs" value="1"></noscript>' in html
    assert '<input type="hidden" name="place" id="place-geojson" value="">' in html
    # The map itself stays hidden until the script shows it, so nothing empty is left without JavaScript.
    assert re.search(r'<div class="map-input__map" data-map-input=\'[^\']*\' data-map-texts=\'[^\']*\' hidden>', html)


def test_the_map_is_told_its_settings_and_texts(app):
    with app.test_request_context("/"):
        html = render_template_string(MACROS + "{{ map_input(form.area) }}", form=AreaForm(meta={"csrf": False}))
    config = json.loads(re.search(r"data-map-input='([^']*)'", html).group(1))
    assert config["mode"] == "polygon"
    assert config["address"] == "street"  # the service's own street field
    assert config["settings"]["tileUrl"] == ""
    assert config["settings"]["geocodeUrl"] == "/karte/adressen"
    texts = json.loads(re.search(r"data-map-texts='([^']*)'", html).group(1))
    assert "{area}" in texts["vertices"]
    assert "Letzten Eckpunkt entfernen" in html
    assert 'id="area-address"' not in html


def test_leaflet_and_the_script_are_loaded_once_with_the_pages_nonce(app, client):
    @access.public
    def two_maps():
        form = AreaForm(meta={"csrf": False})
        return render_template_string(
            '{% extends "layout.html" %}{% block content %}'
            + MACROS
            + "{{ map_input(form.area) }}{{ map_view(stored) }}{% endblock %}",
            form=form,
            stored=POLYGON,
        )

    app.add_url_rule("/_test/karte", "test_two_maps", two_maps)
    response = client.get("/_test/karte")
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r'<script src="([^"]+)" nonce="([^"]+)" defer>', html)
    assert [src.rsplit("/", 1)[-1] for src, _ in scripts] == ["leaflet.js", "map.js"]
    assert {n for _, n in scripts} == {nonce}
    assert html.count("leaflet.css") == 1
    assert client.get(scripts[1][0]).status_code == 200
    assert client.get(scripts[0][0]).status_code == 200


def test_pages_without_a_map_load_no_leaflet(client):
    assert "leaflet" not in client.get("/").get_data(as_text=True)


def test_a_stored_area_is_described_in_words(app):
    html = render(app, '{{ map_view(stored, description="Vor Hauptstraße 12") }}', stored=POLYGON)
    assert "Vor Hauptstraße 12 – Fläche von etwa 233 m² mit 4 Eckpunkten um 51,05045° N, 13,73745° O" in html
    assert "data-map-view=" in html
    point_html = render(app, "{{ map_view(stored) }}", stored=point(51.0504, 13.7373).to_json())
    assert "Punkt bei 51,0504° N, 13,7373° O" in point_html


def test_an_empty_or_unreadable_stored_value_shows_only_the_description(app):
    assert "data-map-view" not in render(app, "{{ map_view(None) }}")
    html = render(app, '{{ map_view("{kaputt", description="Ort unbekannt") }}')
    assert "data-map-view" not in html
    assert "Ort unbekannt" in html


def test_a_form_built_from_a_stored_value_shows_it_again(app):
    with app.test_request_context("/"):
        form = AreaForm(meta={"csrf": False}, data={"area": POLYGON})
        assert form.area.source == "stored"
        html = render_template_string(MACROS + "{{ map_input(form.area) }}", form=form)
    assert "&#34;type&#34;:&#34;Polygon&#34;" in html or "&quot;type&quot;" in html or '"type"' in html
