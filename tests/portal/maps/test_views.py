"""Leaflet served from its npm package, the address look-ups map.js uses, and the CSP for a tile server."""

from __future__ import annotations

import re

import pytest

from portal import create_app
from portal.maps.views import LEAFLET_VERSION
from tests.portal.maps.builders import load_demo_streets

LEAFLET = f"/karte/leaflet/{LEAFLET_VERSION}"


def img_src(client) -> str:
    csp = client.get("/").headers["Content-Security-Policy"]
    return re.search(r"img-src ([^;]*);", csp).group(1)


def test_leaflet_is_served_from_the_package_with_long_caching(client):
    response = client.get(f"{LEAFLET}/leaflet.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert b"Leaflet" in response.data[:300]
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert client.get(f"{LEAFLET}/leaflet.css").mimetype == "text/css"


def test_the_marker_images_named_by_leaflets_stylesheet_are_served(client):
    css = client.get(f"{LEAFLET}/leaflet.css").get_data(as_text=True)
    assert "url(images/marker-icon.png)" in css  # resolved against the stylesheet's own address
    for name in ("marker-icon.png", "marker-icon-2x.png", "marker-shadow.png", "layers.png"):
        response = client.get(f"{LEAFLET}/images/{name}")
        assert response.status_code == 200, name
        assert response.mimetype == "image/png"


@pytest.mark.parametrize(
    "path",
    [
        f"{LEAFLET}/leaflet.js.map",
        f"{LEAFLET}/leaflet-src.js",
        f"{LEAFLET}/../package.json",
        f"{LEAFLET}/%2e%2e/package.json",
        f"{LEAFLET}/images/../../package.json",
        "/karte/leaflet/0.7.0/leaflet.js",
        f"{LEAFLET}/",
    ],
)
def test_nothing_else_of_the_package_is_served(client, path):
    assert client.get(path).status_code == 404


def test_tests_call_no_third_party_origin(client):
    assert img_src(client) == "'self' data:"
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "http" not in csp


def test_a_configured_tile_server_is_allowed_in_img_src(app_config):
    app = create_app({**app_config, "MAP_TILE_URL": "https://tiles.stadt.example/{z}/{x}/{y}.png"}, env="test")
    with app.app_context():
        assert img_src(app.test_client()) == "'self' data: https://tiles.stadt.example"


def test_a_tile_server_with_subdomains_is_allowed_by_wildcard(app_config):
    app = create_app({**app_config, "MAP_TILE_URL": "https://{s}.tile.example.org/{z}/{x}/{y}.png"}, env="test")
    with app.app_context():
        assert img_src(app.test_client()) == "'self' data: https://*.tile.example.org"


def test_tiles_from_our_own_origin_need_no_csp_change(app_config):
    app = create_app({**app_config, "MAP_TILE_URL": "/kacheln/{z}/{x}/{y}.png"}, env="test")
    with app.app_context():
        assert img_src(app.test_client()) == "'self' data:"


@pytest.mark.parametrize(
    "settings",
    [
        {"MAP_TILE_URL": "javascript:alert(1)"},
        {"MAP_TILE_URL": "https://tiles.example; script-src */{z}/{x}/{y}.png"},
        {"MAP_CENTER": "51.05"},
        {"MAP_BOUNDS": "51.1,13.6,50.9,13.9"},
        {"MAP_CENTER": "52.52,13.40"},
    ],
)
def test_wrong_map_settings_stop_the_start(app_config, settings):
    with pytest.raises(RuntimeError):
        create_app({**app_config, **settings}, env="test")


def test_the_development_default_uses_openstreetmap_with_attribution(app_config, monkeypatch):
    monkeypatch.delenv("MAP_TILE_URL", raising=False)
    from portal.config import DevelopmentConfig

    assert DevelopmentConfig.MAP_TILE_URL.startswith("https://tile.openstreetmap.org/")
    assert "OpenStreetMap" in DevelopmentConfig.MAP_TILE_ATTRIBUTION


def test_geocoding_answers_json_with_ranked_results(client):
    load_demo_streets()
    body = client.get("/karte/adressen?q=Rathausplatz 1").get_json()
    assert body["status"] == "found"
    first = body["results"][0]
    assert first["label"] == "Rathausplatz 1, 01067 Altstadt"
    assert first["precision"] == "address"
    assert (round(first["lat"], 4), round(first["lon"], 4)) == (51.0504, 13.7373)


def test_geocoding_says_when_the_address_is_ambiguous_or_unknown(client):
    load_demo_streets()
    ambiguous = client.get("/karte/adressen?q=Hauptstraße 3").get_json()
    assert ambiguous["status"] == "ambiguous"
    assert len(ambiguous["results"]) == 2
    assert "Meinten Sie" in ambiguous["message"]
    unknown = client.get("/karte/adressen?q=Gibtsnichtweg 3").get_json()
    assert (unknown["status"], unknown["results"]) == ("not_found", [])


@pytest.mark.parametrize("query", ["", "%FF%FE", "x" * 200, "<script>alert(1)</script>", "12", "%25%5F"])
def test_odd_queries_get_json_and_never_a_server_error(client, query):
    load_demo_streets()
    response = client.get(f"/karte/adressen?q={query}")
    assert response.status_code == 200
    assert response.get_json()["status"] in {"empty", "not_found", "ambiguous"}


@pytest.mark.parametrize("query", ["%00", "Haupt%00stra%C3%9Fe 1"])
def test_a_control_character_in_the_query_is_problem_json_for_the_map_script(client, query):
    # The map's script asks for JSON (static/js): the app-wide input layer answers it with problem JSON.
    response = client.get(f"/karte/adressen?q={query}", headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json" and "q" in response.get_json()["errors"]


def test_a_too_long_query_is_refused_with_problem_json(client):
    response = client.get("/karte/adressen?q=" + "a" * 5000)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "zu lang" in response.get_json()["detail"]


def test_the_nearest_address_to_a_point(client):
    load_demo_streets()
    body = client.get("/karte/adressen/nahe?lat=51.0504&lon=13.7373").get_json()
    assert body["result"]["label"] == "Rathausplatz 1, 01067 Altstadt"
    assert client.get("/karte/adressen/nahe?lat=51.12&lon=13.62").get_json() == {"result": None}


@pytest.mark.parametrize("query", ["", "lat=abc&lon=13.7", "lat=91&lon=13.7", "lat=nan&lon=inf", "lat=1e400&lon=0"])
def test_the_nearest_address_refuses_bad_coordinates_with_problem_json(client, query):
    response = client.get(f"/karte/adressen/nahe?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_the_address_search_is_rate_limited(app_config):
    app = create_app({**app_config, "MAP_GEOCODE_RATE_LIMIT": "2 per minute"}, env="test")
    with app.app_context():
        client = app.test_client()
        assert client.get("/karte/adressen?q=Markt").status_code == 200
        assert client.get("/karte/adressen?q=Markt").status_code == 200
        response = client.get("/karte/adressen?q=Markt", headers={"Accept": "application/json"})
        assert response.status_code == 429
        assert response.mimetype == "application/problem+json"


def test_the_street_lines_are_geojson_for_the_map_without_tiles(client):
    load_demo_streets()
    response = client.get("/karte/strassen.geojson")
    assert response.mimetype == "application/geo+json"
    body = response.get_json(force=True)
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 38
    assert {f["geometry"]["type"] for f in body["features"]} == {"LineString"}
