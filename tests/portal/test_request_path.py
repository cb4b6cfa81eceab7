"""The lean request path: cached pages for signed-out visitors, cached links and messages, probes, headers."""

from __future__ import annotations

import re

from flask import render_template_string, url_for
from flask_babel import force_locale, gettext

from portal import access, page_cache
from portal.page_cache import EXTENSION as PAGE_CACHE
from portal.rendering import CachedUrlFor
from tests.builders import make_user


def _nonce_page():
    return render_template_string('<p>{{ _("Startseite") }}</p><script nonce="{{ csp_nonce() }}"></script>')


def _add_nonce_page(app):
    app.add_url_rule("/_test/nonce", "test_nonce_page", access.public(page_cache.anonymous(_nonce_page)))


def test_a_signed_out_visitor_gets_the_stored_page_with_a_fresh_nonce_each_time(app, client):
    _add_nonce_page(app)
    seen = set()
    for _ in range(3):
        response = client.get("/_test/nonce")
        body = response.get_data(as_text=True)
        nonce = re.search(r'nonce="([^"]+)"', body).group(1)
        # The nonce in the page is the one the policy allows, and no answer repeats one.
        assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
        assert "Set-Cookie" not in response.headers
        seen.add(nonce)
    assert len(seen) == 3
    assert list(app.extensions[PAGE_CACHE].entries) == [("test_nonce_page", "/_test/nonce?", "de")]


def test_each_language_has_its_own_stored_page(app, client):
    _add_nonce_page(app)
    assert "Startseite" in client.get("/_test/nonce").get_data(as_text=True)
    english = client.get("/_test/nonce", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Startseite" not in english and "Home" in english
    assert {key[2] for key in app.extensions[PAGE_CACHE].entries} == {"de", "en"}


def test_a_signed_in_person_never_gets_the_stored_page(app, client, auth):
    make_user("anna@example.org")
    client.get("/")
    assert app.extensions[PAGE_CACHE].entries
    auth.login()
    html = client.get("/").get_data(as_text=True)
    assert "Abmelden" in html  # the account's own header, not the visitor's page


def test_a_page_that_writes_into_the_session_is_not_stored(app, client):
    def with_form():
        return render_template_string('<form method="post"><input name="csrf_token" value="{{ csrf_token() }}"></form>')

    app.add_url_rule("/_test/form", "test_form_page", access.public(page_cache.anonymous(with_form)))
    first = client.get("/_test/form")
    assert "Set-Cookie" in first.headers
    assert PAGE_CACHE not in app.extensions or not app.extensions[PAGE_CACHE].entries


def test_the_cache_can_be_switched_off(app, client):
    app.config["PAGE_CACHE_SECONDS"] = 0
    client.get("/")
    client.get("/")
    assert PAGE_CACHE not in app.extensions


def test_cached_links_equal_flasks_own(app):
    cached = CachedUrlFor(app)
    with app.test_request_context("/"):
        for _ in range(2):
            assert cached("pages.home") == url_for("pages.home")
            assert cached("pages.asset", filename="kern.min.css") == url_for("pages.asset", filename="kern.min.css")
            assert cached("pages.switch_language", language="en", next="/a?b=c") == url_for(
                "pages.switch_language", language="en", next="/a?b=c"
            )
            assert cached("pages.home", _external=True) == url_for("pages.home", _external=True)
    with app.test_request_context("/", base_url="http://localhost/stadt"):
        assert cached("pages.home") == "/stadt/"  # another script root is another entry


def test_messages_follow_a_forced_locale_within_one_request(app):
    with app.test_request_context("/"):
        assert gettext("Startseite") == "Startseite"
        with force_locale("en"):
            assert gettext("Startseite") == "Home"
            assert render_template_string('{{ _("Startseite") }}') == "Home"
        assert gettext("Startseite") == "Startseite"
        assert render_template_string('{{ _("Startseite") }}') == "Startseite"


def test_answers_that_are_not_pages_get_a_policy_that_allows_nothing(client):
    for path in ("/healthz", "/api/v1/gibt-es-nicht"):
        csp = client.get(path).headers["Content-Security-Policy"]
        assert csp.startswith("default-src 'none'"), path
        assert "nonce" not in csp


def test_probes_write_no_request_log_line(client, caplog):
    with caplog.at_level("INFO", logger="stadtportal.request"):
        client.get("/healthz")
        client.get("/readyz")
        client.get("/impressum")
    lines = [r.getMessage() for r in caplog.records if r.name == "stadtportal.request"]
    assert lines == ["GET /impressum 200"]


def test_numeric_dates_are_written_as_babel_writes_them(app):
    from datetime import UTC, datetime

    from flask_babel import format_datetime

    from portal.rendering import _datetimeformat

    with app.test_request_context("/"):
        for value in (
            datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # the night the clocks go forward
            datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # and back
            datetime(2026, 12, 31, 23, 5),  # naive, as SQLite hands it back: UTC
        ):
            for pattern in ("dd.MM.yyyy, HH:mm", "dd.MM.yyyy", "HH:mm", "medium"):
                assert _datetimeformat(value, pattern) == format_datetime(value, pattern), (value, pattern)
        assert render_template_string('{{ v | datetimeformat("dd.MM.yyyy, HH:mm") }}', v=value) == "01.01.2027, 00:05"
