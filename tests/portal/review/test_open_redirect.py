"""A `next` address that a browser reads as another site is never followed."""

from __future__ import annotations

import pytest

from tests.builders import PASSWORD, csrf_from, make_user


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "LOGIN_SLOW_SECONDS": 0, "LOGIN_SLOW_MAX_SECONDS": 0}


# Browsers remove tabs and line breaks inside a URL: "/<TAB>/evil.example/" is followed as "//evil.example/".
SNEAKY = ["/%09/evil.example/", "/%0A/evil.example/", "/%0D%0A/evil.example/"]


@pytest.mark.parametrize("next_value", SNEAKY)
def test_sign_in_with_a_tab_in_next_does_not_lead_to_another_site(client, auth, next_value):
    make_user()
    response = auth.post_form(f"/anmelden?next={next_value}", {"email": "anna@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/konto/"


@pytest.mark.parametrize("next_value", SNEAKY)
def test_signed_in_visit_of_sign_in_page_with_a_tab_in_next_stays_on_site(client, auth, next_value):
    make_user()
    auth.login()
    response = client.get(f"/anmelden?next={next_value}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/konto/"


@pytest.mark.parametrize("next_value", ["/\\evil.example/", "/\t/evil.example/", "/\\/evil.example/"])
def test_language_switch_never_sends_to_another_site(client, next_value):
    response = client.get("/sprache/en", query_string={"next": next_value})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("next_value", ["/\\evil.example/", "//evil.example/"])
def test_language_form_of_earlier_pages_never_sends_to_another_site(client, next_value):
    token = csrf_from(client.get("/barrierefreiheit").get_data(as_text=True))

    response = client.post("/sprache", data={"csrf_token": token, "language": "en", "next": next_value})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
