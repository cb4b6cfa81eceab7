"""Public pages, the language switch, the health check, front-end assets and the error pages."""

from __future__ import annotations

import re

import pytest
from werkzeug.exceptions import Conflict

from portal import access
from tests.builders import csrf_from

PAGES = ["/", "/impressum", "/datenschutz", "/barrierefreiheit", "/barrierefreiheit/danke", "/api"]


@pytest.mark.parametrize("path", PAGES)
def test_public_page_has_one_h1_skip_link_and_legal_footer(client, path):
    html = client.get(path).get_data(as_text=True)
    assert html.count("<h1") == 1
    assert 'href="#main"' in html and 'id="main"' in html
    for link in ('href="/impressum"', 'href="/datenschutz"', 'href="/barrierefreiheit"'):
        assert link in html


def test_home_lists_the_configured_services(client):
    html = client.get("/").get_data(as_text=True)
    assert "Termine" in html
    assert 'aria-label="Hauptnavigation"' in html


def test_german_is_the_default_language(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="de">' in html
    assert 'lang="en"' in html  # the switch offers English in English


def test_language_switch_sets_a_cookie_and_returns_to_the_page(app, client):
    html = client.get("/impressum").get_data(as_text=True)
    link = re.search(r'<a class="site-language[^>]*href="([^"]+)"', html, flags=re.S).group(1).replace("&amp;", "&")
    assert link == "/sprache/en?next=/impressum"
    response = client.get(link)
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Location"] == "/impressum"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("sp_lang=en")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # A fresh app context: the fixture's long-lived one would hand flask-babel's cached locale (on g) over.
    with app.app_context():
        assert '<html lang="en">' in client.get("/impressum").get_data(as_text=True)


def test_language_switch_never_redirects_to_another_site(client):
    response = client.get("/sprache/de", query_string={"next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_language_switch_refuses_an_unknown_language(client):
    assert client.get("/sprache/xx").status_code == 404
    token = csrf_from(client.get("/barrierefreiheit").get_data(as_text=True))
    response = client.post("/sprache", data={"csrf_token": token, "language": "xx"})
    assert response.status_code == 400


def test_the_language_form_of_earlier_pages_still_works(client):
    token = csrf_from(client.get("/barrierefreiheit").get_data(as_text=True))
    response = client.post("/sprache", data={"csrf_token": token, "language": "en", "next": "/impressum"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/impressum"
    assert response.headers["Set-Cookie"].startswith("sp_lang=en")


def test_kern_assets_are_served_from_the_package(client):
    response = client.get("/assets/kern.min.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert client.get("/assets/fonts/fira-sans.css").status_code == 200


def test_assets_outside_the_package_are_not_served(client):
    assert client.get("/assets/../../../package.json").status_code == 404
    assert client.get("/assets/%2e%2e/%2e%2e/%2e%2e/package.json").status_code == 404


def test_healthz_answers_json(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def _add_failing_routes(app):
    @access.public
    def boom():
        raise RuntimeError("kaputt")

    @access.public
    def conflict():
        raise Conflict()

    @access.public
    def forbidden():
        from flask import abort

        abort(403)

    app.add_url_rule("/_test/boom", "test_boom", boom)
    app.add_url_rule("/_test/conflict", "test_conflict", conflict)
    app.add_url_rule("/_test/forbidden", "test_forbidden", forbidden)


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/gibt-es-nicht", 404, "Seite nicht gefunden"),
        ("/_test/forbidden", 403, "Kein Zugriff"),
        ("/_test/conflict", 409, "Konflikt mit dem aktuellen Stand"),
        ("/_test/boom", 500, "Ein interner Fehler ist aufgetreten"),
    ],
)
def test_error_pages_are_shown_in_the_layout(app, client, path, status, title):
    _add_failing_routes(app)
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert f'<h1 class="kern-heading-large">{title}</h1>' in html
    assert 'href="/impressum"' in html
    assert "kaputt" not in html and "Traceback" not in html


def test_api_errors_are_problem_json_even_for_html_routes_when_json_is_asked_for(client):
    response = client.get("/gibt-es-nicht", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404 and body["title"] == "Seite nicht gefunden"
    assert body["type"].startswith("https://")


def test_the_favicon_is_the_portals_mark(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.headers["Location"] == "/static/img/favicon.svg"
    assert client.get("/static/img/favicon.svg").mimetype == "image/svg+xml"
    assert 'rel="icon" href="/static/img/favicon.svg"' in client.get("/impressum").get_data(as_text=True)
