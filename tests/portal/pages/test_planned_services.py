"""Services that are not built yet are announced on the home page, never offered in the navigation."""

from __future__ import annotations

import re

import pytest

from portal.services_registry import Landing

ALL = ["appointments", "payments", "participation", "dataaccess", "permits"]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SERVICES": ALL}


@pytest.fixture
def planned(app):
    """Every service is built by now: a planned one, as the next service would be announced."""
    landing = Landing("building-permits", "Bauantrag online", "Einen Bauantrag online stellen.", None, available=False)
    app.extensions["stadtportal_landing"].append(landing)
    yield landing
    app.extensions["stadtportal_landing"].remove(landing)


def _navigation(html: str) -> str:
    match = re.search(r'<nav class="site-nav".*?</nav>', html, re.S)
    return match.group(0) if match else ""


def test_navigation_lists_only_services_that_are_built(client, planned):
    nav = _navigation(client.get("/").get_data(as_text=True))
    for built in ("Termine", "Bezahlen", "Datenzugriffe", "Beteiligung", "Sondernutzung"):
        assert built in nav
    assert "Bauantrag online" not in nav


def test_home_page_announces_planned_services_with_the_phone_alternative(client, planned):
    html = client.get("/").get_data(as_text=True)
    announced = html[html.index('id="planned-heading"') :]
    assert "Bauantrag online" in announced
    assert "Sondernutzung" not in announced.split("</section>")[0] and "Beteiligung" not in announced
    assert "115" in announced
    # A card for a planned service links nowhere: there is nothing behind it yet.
    assert "kern-link--stretched" not in announced.split("</section>")[0]


def test_without_planned_services_the_home_page_announces_none(client):
    assert 'id="planned-heading"' not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/datenzugriff/"])  # /beteiligung/ and /sondernutzung/ have their real pages now
def test_the_old_placeholder_pages_are_gone(client, path):
    assert client.get(path).status_code == 404
