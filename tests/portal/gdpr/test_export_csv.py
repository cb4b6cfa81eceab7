"""Meine Daten as CSV tables in a zip: the same data as the JSON file, bookings included."""

from __future__ import annotations

import csv
import io
import zipfile

from tests.appointments.booking.builders import make_office
from tests.builders import make_user
from tests.portal.gdpr.builders import NAME, booked, details, events


def test_csv_export_is_a_zip_with_a_table_of_my_bookings(client, auth):
    office = make_office()
    user = make_user("erika@example.org", display_name="Erika")
    held = booked(office, user)
    auth.login("erika@example.org")
    assert 'href="/konto/daten-csv.zip"' in client.get("/konto/daten").get_data(as_text=True)

    response = client.get("/konto/daten-csv.zip")

    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = archive.namelist()
    assert "services-appointments-bookings.csv" in names
    assert "account.csv" in names
    text = archive.read("services-appointments-bookings.csv").decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["reference"] == held.booking.reference
    assert row["name"] == NAME
    account = next(csv.DictReader(io.StringIO(archive.read("account.csv").decode("utf-8-sig"))))
    assert account["email"] == "erika@example.org"
    assert details(events("account.data_exported")[-1])["format"] == "csv"


def test_a_text_that_looks_like_a_formula_is_quoted_in_the_csv(client, auth):
    office = make_office()
    user = make_user("erika@example.org", display_name='=HYPERLINK("http://evil.example","Klick")')
    booked(office, user)
    auth.login("erika@example.org")

    archive = zipfile.ZipFile(io.BytesIO(client.get("/konto/daten-csv.zip").get_data()))

    account = next(csv.DictReader(io.StringIO(archive.read("account.csv").decode("utf-8-sig"))))
    assert account["display_name"] == '\'=HYPERLINK("http://evil.example","Klick")'
