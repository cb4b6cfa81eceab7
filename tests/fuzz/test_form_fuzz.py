"""Every HTML form route takes hostile values (NUL, control characters, huge numbers, odd Unicode, extreme
dates) with a valid CSRF token, as a person allowed to use it, and never answers 5xx.

The forms are found by crawling the site as each demo person (tests/fuzz/crawl.py), from the site's start pages
and those the seeds name; the few no page answering 200 shows are declared by hand (declared_forms). A route
neither reaches must be listed in UNREACHED with the reason, so a new form route is fuzzed or explained: today
the list is empty.
"""

from __future__ import annotations

import pytest
from flask import url_for
from hypothesis import given

from tests.builders import csrf_from
from tests.fuzz.conftest import DEMO_DOMAIN, FUZZ, sign_in, sign_in_with_password
from tests.fuzz.crawl import Crawler, Field, Form
from tests.fuzz.known import FORM_FINDINGS
from tests.fuzz.routes import form_endpoints
from tests.fuzz.seed import book_appointment, mailed_paths, rows_for_unreached_forms
from tests.fuzz.values import form_data

pytestmark = pytest.mark.fuzz

PASSWORD_ONLY = "unternehmen/passwort"
PERSONS = [
    None,
    "buerger",
    "unternehmen",
    "sachbearbeitung",
    "amtsadmin",
    "daten",
    "moderation",
    "kasse",
    "datenschutz",
    "admin",
    "sondernutzung",
    "verkehrsbehoerde",
    # Signed in with the password only, waiting for the second factor: the code form is all this person sees.
    PASSWORD_ONLY,
]

# Form routes the crawl does not reach, and why. Rather than listing one, seed what it needs or declare its form.
UNREACHED: dict[str, str] = {}


def declared_forms(app, found: dict[str, Form]) -> dict[str, Form]:
    """Forms no page the crawl reads shows, written out by hand (each with why), fuzzed like the crawled ones."""
    with app.test_request_context("/"):
        endpoints = ("appointments.book_nearest", "pages.set_language", "accounts.login")
        nearest, language, login = (url_for(endpoint) for endpoint in endpoints)
    forms: dict[str, Form] = {}
    check = found.get("appointments.book_check")
    if check is not None:
        # The booking's "just taken" page offers the nearest free times; it answers 409, to the check page's post,
        # when another person booked the time meanwhile, so the crawl (which reads 200 pages) never reads it. The
        # form needs only the wizard's state: the check page's steps.
        forms["appointments.book_nearest"] = Form(
            "appointments.book_nearest",
            nearest,
            check.page,
            check.person,
            False,
            [Field("start", "radio", options=[""]), Field("altcha", "hidden")],
            list(check.steps),
        )
    # The language form of earlier layouts (now a GET link), kept for pages still open in a browser.
    forms["pages.set_language"] = Form(
        "pages.set_language",
        language,
        login,
        None,
        False,
        [Field("language", "select", options=["de", "en"]), Field("next", "hidden", "/")],
    )
    return forms


@pytest.fixture(scope="module")
def forms(fuzz_world):
    app = fuzz_world.app
    book_appointment(app.test_client())

    def make_client(person):
        client = app.test_client()
        if person == PASSWORD_ONLY:
            sign_in_with_password(client, f"{person.split('/')[0]}@{DEMO_DOMAIN}")
        elif person:
            sign_in(client, f"{person}@{DEMO_DOMAIN}")
        return client

    with app.app_context():
        starts = rows_for_unreached_forms(DEMO_DOMAIN, app.test_client())
        starts[None] = mailed_paths() + starts.get(None, [])
    starts[PASSWORD_ONLY] = ["/anmelden/zwei-faktor"]
    crawler = Crawler(app, make_client, PERSONS, starts, only_starts={PASSWORD_ONLY})
    found = crawler.run()
    for endpoint, form in declared_forms(app, found).items():
        found.setdefault(endpoint, form)
    return {"forms": found, "errors": crawler.errors, "make_client": make_client}


def _csrf(client, page: str) -> str | None:
    response = client.get(page)
    try:
        return csrf_from(response.get_data(as_text=True))
    except AssertionError:
        return None


def _post(client, form: Form, data: dict):
    token = _csrf(client, form.page)
    if token is not None:
        data = {**data, "csrf_token": token}
    return client.post(form.action, data=data, content_type="multipart/form-data" if form.multipart else None)


def _logged_error(caplog) -> str:
    """The traceback portal.errors logged for the 5xx (the page itself says only that something went wrong)."""
    import logging

    formatter = logging.Formatter()
    return "\n".join(formatter.formatException(r.exc_info) for r in caplog.records if r.exc_info)


def test_crawl_raises_nothing(forms):
    assert forms["errors"] == []


def test_crawl_reaches_every_form_route_but_the_listed(forms):
    missing = {endpoint for endpoint in form_endpoints() if endpoint not in forms["forms"]}
    unexplained = sorted(missing - set(UNREACHED))
    assert not unexplained, "not reached by the crawl:\n" + "\n".join(unexplained)
    # The list shrinks honestly: a route the crawl now reaches leaves it (the stage then fuzzes it).
    stale = sorted(set(UNREACHED) & set(forms["forms"]))
    assert not stale, "reached, yet listed in UNREACHED:\n" + "\n".join(stale)


@pytest.mark.parametrize("endpoint", form_endpoints())
def test_form_route_never_answers_5xx(endpoint, forms, request, caplog):
    form = forms["forms"].get(endpoint)
    if form is None:
        pytest.skip(UNREACHED.get(endpoint, "not reached by the crawl"))
    if endpoint in FORM_FINDINGS:
        request.applymarker(pytest.mark.xfail(reason=FORM_FINDINGS[endpoint], strict=False))

    @FUZZ
    @given(data=form_data(form))
    def post_hostile_values(data):
        client = forms["make_client"](form.person)
        for page, action, values in form.steps:
            client.post(action, data={**values, "csrf_token": _csrf(client, page) or ""})
        caplog.clear()
        response = _post(client, form, data)
        assert response.status_code < 500, _logged_error(caplog) or response.get_data(as_text=True)[:2000]

    post_hostile_values()
