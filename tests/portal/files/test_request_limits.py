"""A body larger than the app allows is refused with 413 from its announced length, before it is parsed: a
friendly page for people, problem JSON for API clients. Bodies without files have a much smaller cap."""

from __future__ import annotations

import io
import json

import pytest

from portal.files.policy import MB
from tests.portal.files import samples

LIMIT = 1 * MB
NO_FILES_LIMIT = 512 * 1024


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {
        **app_config,
        "MAX_CONTENT_LENGTH": LIMIT,
        "MAX_CONTENT_LENGTH_NO_FILES": NO_FILES_LIMIT,
        "MAX_FORM_PARTS": 50,
        "MAX_FORM_MEMORY_SIZE": 64 * 1024,
    }


def _multipart(client, url: str, size: int, **fields):
    big = samples.pdf() + b"%" * (size - len(samples.pdf()))
    return client.post(
        url,
        data={"email": "anna@example.org", "password": "x", **fields, "anhang": (io.BytesIO(big), "plan.pdf")},
        content_type="multipart/form-data",
    )


def test_a_form_post_larger_than_the_limit_gets_a_friendly_413_page(client):
    response = _multipart(client, "/anmelden", LIMIT + 1024)

    assert response.status_code == 413
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Die Anfrage ist zu groß" in page
    assert "höchstens 1 MB" in page
    assert "Ihre Eingaben wurden deshalb nicht gespeichert" in page
    assert "Verkleinern Sie die Datei" in page
    assert 'class="kern-heading-large"' in page and "</html>" in page  # the full layout, not a bare error


def test_an_api_post_larger_than_the_limit_gets_413_problem_json(client):
    body = json.dumps({"name": "x" * (LIMIT + 1024)})

    # The fee preview sets no cap of its own (the booking API does: 64 KB, tests/portal/hardening/test_request_size.py).
    response = client.post("/api/v1/permits/fee-preview", data=body, content_type="application/json")

    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 413
    assert problem["title"] == "Die Anfrage ist zu groß"
    assert problem["max_bytes"] == NO_FILES_LIMIT  # JSON carries no files: the smaller cap applies
    assert "höchstens 0,5 MB" in problem["detail"]


def test_a_body_without_files_has_the_smaller_cap(client):
    response = client.post(
        "/anmelden",
        data="email=anna%40example.org&password=" + "x" * (NO_FILES_LIMIT + 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "höchstens 0,5 MB" in response.get_data(as_text=True)


def test_a_file_upload_under_the_app_limit_is_not_refused_by_the_smaller_cap(client):
    response = _multipart(client, "/anmelden", NO_FILES_LIMIT + 100 * 1024)
    assert response.status_code != 413


def test_too_many_form_parts_are_refused(client):
    fields = {f"feld{i}": "x" for i in range(60)}
    response = client.post("/anmelden", data=fields, content_type="multipart/form-data")
    assert response.status_code == 413


def test_an_oversized_text_field_in_a_multipart_form_is_refused(client):
    response = client.post(
        "/anmelden", data={"email": "a" * (65 * 1024), "password": "x"}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
