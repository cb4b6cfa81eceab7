"""Issue 11, finding 4: ordinary bad input is refused with 400/404/422 and field errors, never a 500."""

from __future__ import annotations

import logging

import pytest

from portal.accounts.models import Organisation, User
from portal.accounts.tokens import create_token
from portal.actors import SYSTEM
from portal.extensions import db
from tests.appointments.booking.builders import at, held_rows, make_office, workday
from tests.builders import make_department, make_location, make_user

NUL = "\x00"


def _booking(office, **overrides):
    body = {
        "services": [{"id": office.service.id, "quantity": 1}],
        "location": office.location.id,
        "start": at(workday(), 9, 0).isoformat(),
        "name": "Erika Mustermann",
        "email": "erika@example.org",
    }
    body.update(overrides)
    return body


def _field_errors(response) -> dict:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)[:300]
    return response.get_json()["errors"]


# --- the API: problem JSON with the field named -----------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": f"Erika{NUL}Mustermann"}, "name"),
        ({"email": f"erika{NUL}@example.org"}, "email"),
        ({"location": 2147483648}, "location"),
        ({"location": 99999999999999999999}, "location"),
        ({"start": "0001-01-01T00:00:00+01:00"}, "start"),
        ({"start": "9999-12-31T23:59:59-23:59"}, "start"),
        ({"services": [{"id": 2147483648, "quantity": 1}]}, "services"),
    ],
)
def test_bad_values_in_a_booking_are_422_naming_the_field(app, client, overrides, field):
    office = make_office()

    response = client.post("/api/v1/appointments/bookings", json=_booking(office, **overrides))

    assert response.status_code == 422
    assert field in _field_errors(response)
    assert held_rows() == (0, 0, 0)


def test_a_nul_in_a_booking_reference_is_404(app, client):
    response = client.get("/api/v1/appointments/bookings/T%00?token=x")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_an_after_seq_beyond_64_bits_is_422(app, client):
    _, token = create_token(SYSTEM, "SIEM", ["audit"])
    for after_seq in ("9223372036854775808", "117292127693812924416"):
        response = client.get(
            f"/api/v1/audit/events?after_seq={after_seq}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 422
        assert "after_seq" in _field_errors(response)


@pytest.mark.parametrize("service", ["-27288341962320400513736114176", "2147483648"])
def test_an_out_of_range_id_in_a_query_is_422_naming_it(app, client, service):
    response = client.get(f"/api/v1/appointments/locations?service={service}")

    assert response.status_code == 422
    assert "service" in _field_errors(response)


def test_a_nul_in_a_query_parameter_is_422_naming_it(app, client):
    response = client.get("/api/v1/appointments/slots?service=1&location=a%00b")
    assert response.status_code == 422
    assert "location" in _field_errors(response)


# --- pages: 404 for bad path parts, the form's error next to the field ---------------------------------------


def test_a_desk_id_beyond_the_column_is_404(app, client, auth):
    department = make_department()
    make_location(department)
    make_user("clerk@example.org", department=department, department_role="clerk")
    auth.login("clerk@example.org")

    assert client.get("/schalter/99999999999999999999/anzeige").status_code == 404
    assert client.get("/schalter/2147483648/anzeige").status_code == 404


def test_a_nul_in_a_manage_link_is_404(app, client):
    assert client.get("/termine/verwalten/T%00/x").status_code == 404


def test_a_nul_in_a_page_query_is_400(app, client):
    assert client.get("/termine/buchen?x=a%00b").status_code == 400


def _refused_next_to_the_field(response, field: str) -> None:
    """The form came back (200, the house style) with the control-character message in its error summary and
    next to the field."""
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("Steuerzeichen") >= 2, page[:3000]  # the summary and the field
    assert f'id="{field}"' in page and 'aria-invalid="true"' in page


def test_a_nul_in_the_sign_in_email_is_a_field_error(app, client, auth):
    make_user()
    _refused_next_to_the_field(auth.login(f"anna{NUL}@example.org"), "email")


REGISTRATION = {
    "email": "erika@example.org",
    "password": "richtig-langes-Passwort-1",
    "password_confirm": "richtig-langes-Passwort-1",
}


@pytest.mark.parametrize("name", [f"Erika{NUL}", "Erika\r\nBcc: x@y", "Erika\tMustermann", "Erika\x1b[31m"])
def test_control_characters_in_the_registration_name_are_a_field_error(app, client, auth, name):
    response = auth.post_form("/registrieren", {"display_name": name, **REGISTRATION})

    _refused_next_to_the_field(response, "display_name")
    assert db.session.query(User).filter_by(email="erika@example.org").count() == 0


def test_a_nul_in_the_profile_name_is_a_field_error(app, client, auth):
    user = make_user(display_name="Anna")
    auth.login()

    response = auth.post_form("/konto/profil", {"display_name": f"Anna{NUL}", "language": "de"})

    _refused_next_to_the_field(response, "display_name")
    db.session.refresh(user)
    assert user.display_name == "Anna"


@pytest.mark.parametrize("name", [f"Evil{NUL}GmbH", "Evil\r\nBcc: x@y", "Evil\u2028GmbH"])
def test_control_characters_in_an_organisation_name_are_a_field_error(app, client, auth, name):
    make_user()
    auth.login()

    response = auth.post_form("/organisationen/neu", {"name": name})

    _refused_next_to_the_field(response, "name")
    assert db.session.query(Organisation).count() == 0


@pytest.mark.parametrize("organisation_id", ["²", "99999999999999999999"])
def test_a_superscript_digit_or_huge_organisation_id_is_400(app, client, auth, organisation_id):
    make_user()
    auth.login()
    response = auth.post_form("/organisationen/handeln", {"organisation_id": organisation_id})
    assert response.status_code == 400


def test_the_nul_refusal_writes_no_personal_data_to_the_log(app, client, auth, caplog):
    with caplog.at_level(logging.DEBUG):
        auth.post_form(
            "/registrieren",
            {
                "display_name": f"Erika Geheim{NUL}",
                "email": f"geheim{NUL}@example.org",
                "password": "richtig-langes-Passwort-1",
                "password_confirm": "richtig-langes-Passwort-1",
            },
        )
    assert "Geheim" not in caplog.text and "geheim" not in caplog.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("42", 42), (" 7 ", 7), ("²", None), ("٣", None), ("1e3", None), ("", None), (None, None), ("2147483648", None)],
)
def test_parse_int_takes_ascii_digits_within_the_column(text, expected):
    from portal.inputs import parse_int

    assert parse_int(text) == expected


def test_a_nul_in_a_text_area_is_a_field_error_and_line_breaks_stay_allowed(app, client, auth):
    # The fuzz stage's F4 (pages.barrierefreiheit_feedback); a text area keeps its line breaks.
    response = auth.post_form("/barrierefreiheit", {"message": f"Zeile 1\r\nZeile{NUL} 2"})

    _refused_next_to_the_field(response, "message")
