"""Services that are not built yet are announced on the home page, never offered in the navigation."""

from __future__ import annotations

import re

import pytest

ALL = ["appointments", "payments", "participation", "dataaccess", "permits"]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SERVICES": ALL}


def _navigation(html: str) -> str:
    match = re.search(r'<nav class="site-nav".*?</nav>', html, re.S)
    return match.group(0) if match else ""


def test_navigation_lists_only_services_that_are_built(client):
    nav = _navigation(client.get("/").get_data(as_text=True))
    assert "Termine" in nav and "Bezahlen" in nav and "Datenzugriffe" in nav and "Beteiligung" in nav
    for planned in ("Sondernutzung",):
        assert planned not in nav


def test_home_page_announces_planned_services_with_the_phone_alternative(client):
    html = client.get("/").get_data(as_text=True)
    planned = html[html.index('id="planned-heading"') :]
    assert "Sondernutzung" in planned
    assert "Datenzugriffe" not in planned and "Beteiligung" not in planned
    assert "115" in planned
    # A card for a planned service links nowhere: there is nothing behind it yet.
    assert "kern-link--stretched" not in planned.split("</section>")[0]


@pytest.mark.parametrize("path", ["/datenzugriff/"])  # /beteiligung/ and /sondernutzung/ have their real pages now
def test_the_old_placeholder_pages_are_gone(client, path):
    assert client.get(path).status_code == 404
