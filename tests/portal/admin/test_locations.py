"""Locations: created and changed by platform admins and the department's own admins only."""

from __future__ import annotations

import sqlalchemy as sa

from portal.departments.models import Location
from portal.extensions import db
from tests.builders import make_location
from tests.portal.admin.conftest import audit_events, post_form

VALID = {
    "name": "Bürgerbüro Süd",
    "street": "Südplatz 3",
    "postcode": "01219",
    "city": "Musterstadt",
    "latitude": "51.0280",
    "longitude": "13.7600",
    "notes": "Barrierefreier Eingang",
}


def test_platform_admin_creates_a_location_and_it_is_audited(client, as_user, platform_admin, buergeramt):
    as_user(platform_admin)
    response = post_form(client, f"/admin/aemter/{buergeramt.id}/standorte/neu", VALID)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bürgerbüro Süd" in page
    assert "Südplatz 3, 01219 Musterstadt" in page
    location = db.session.scalar(sa.select(Location))
    assert (location.latitude, location.longitude) == (51.028, 13.76)
    [(event, details)] = audit_events("location.saved")
    assert details["name"] == "Bürgerbüro Süd"
    assert details["department_id"] == buergeramt.id
    assert event.actor_id == str(platform_admin.id)


def test_coordinates_with_a_decimal_comma_are_accepted(client, as_user, department_admin, buergeramt):
    as_user(department_admin)
    data = {**VALID, "latitude": "51,0280", "longitude": "13,76"}
    response = post_form(client, f"/admin/aemter/{buergeramt.id}/standorte/neu", data)
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Location.latitude)) == 51.028


def test_invalid_postcode_and_coordinates_show_field_errors_and_keep_input(client, as_user, platform_admin, buergeramt):
    as_user(platform_admin)
    data = {**VALID, "postcode": "0121", "latitude": "91.5", "longitude": "Ost"}
    response = post_form(client, f"/admin/aemter/{buergeramt.id}/standorte/neu", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="postcode-error"' in page and "Die Postleitzahl hat genau 5 Ziffern." in page
    assert 'id="latitude-error"' in page and "Der Breitengrad liegt zwischen -90 und 90." in page
    assert 'id="longitude-error"' in page and "Geben Sie eine Zahl ein" in page
    for typed in ('value="0121"', 'value="91.5"', 'value="Ost"', 'value="Südplatz 3"'):
        assert typed in page
    assert "Bitte korrigieren Sie Ihre Eingaben" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Location)) == 0
    assert audit_events("location.saved") == []


def test_only_one_coordinate_is_refused(client, as_user, platform_admin, buergeramt):
    as_user(platform_admin)
    data = {**VALID, "longitude": ""}
    response = post_form(client, f"/admin/aemter/{buergeramt.id}/standorte/neu", data)
    assert "Breiten- und Längengrad zusammen" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Location)) == 0


def test_department_admin_edits_a_location_of_their_department(client, as_user, department_admin, buergeramt):
    location = make_location(buergeramt)
    as_user(department_admin)
    edit = client.get(f"/admin/standorte/{location.id}/bearbeiten").get_data(as_text=True)
    assert 'value="51,05"' in edit
    response = post_form(client, f"/admin/standorte/{location.id}/bearbeiten", {**VALID, "name": "Bürgerbüro Altstadt"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Location, location.id).name == "Bürgerbüro Altstadt"


def test_department_admin_cannot_edit_another_departments_location(
    client, as_user, department_admin, bauamt, buergeramt
):
    other = make_location(bauamt, "Bauamt Servicepunkt")
    as_user(department_admin)
    assert client.get(f"/admin/standorte/{other.id}/bearbeiten").status_code == 403
    assert client.get(f"/admin/aemter/{bauamt.id}/standorte").status_code == 403
    assert client.get(f"/admin/aemter/{bauamt.id}/standorte/neu").status_code == 403
    token_page = f"/admin/aemter/{buergeramt.id}/standorte/neu"
    response = post_form(client, f"/admin/standorte/{other.id}/bearbeiten", {**VALID, "name": "Gekapert"}, token_page)
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Location, other.id).name == "Bauamt Servicepunkt"
    assert audit_events("location.saved") == []
