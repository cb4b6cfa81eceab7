"""Overview and departments: who may see and change what."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.departments.models import Department
from portal.extensions import db
from tests.builders import make_user
from tests.portal.admin.conftest import audit_events, post_form


def test_citizen_gets_403_on_admin_overview(client, as_user):
    citizen = make_user("buerger@example.org")
    as_user(citizen)
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "Kein Zugriff" in response.get_data(as_text=True)


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/anmelden" in response.headers["Location"]


def test_overview_shows_platform_admin_every_area(client, as_user, platform_admin, buergeramt):
    as_user(platform_admin)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Ämter anlegen und bearbeiten" in page
    assert "Personal mit amtsübergreifenden Rollen" in page
    assert "Bürgeramt" in page


def test_overview_shows_department_admin_only_their_department(client, as_user, department_admin, bauamt):
    as_user(department_admin)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Bürgeramt" in page
    assert "Bauordnung" not in page
    assert "Ämter anlegen und bearbeiten" not in page
    assert "amtsübergreifenden Rollen" not in page


def test_clerk_sees_no_core_administration_only_the_services_pages(client, as_user, buergeramt):
    clerk = make_user("clerk@stadt.example", department=buergeramt, department_role="clerk", totp=True)
    as_user(clerk)
    response = client.get("/admin/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "/admin/aemter" not in page
    # Services list their staff pages (appointments: the clerk's calendar feed).
    assert "/termine/kalender/" in page
    assert client.get(f"/admin/aemter/{buergeramt.id}/standorte").status_code == 403


def test_platform_admin_creates_a_department_and_it_is_audited(client, as_user, platform_admin):
    as_user(platform_admin)
    response = post_form(
        client,
        "/admin/aemter/neu",
        {"name": "Umweltamt", "slug": "umweltamt", "email": "umwelt@stadt.example", "phone": "030 23125-200"},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Das Amt „Umweltamt“ wurde angelegt." in page
    department = db.session.scalar(sa.select(Department).where(Department.slug == "umweltamt"))
    assert department is not None and department.email == "umwelt@stadt.example"
    [(event, details)] = audit_events("department.saved")
    assert event.actor_id == str(platform_admin.id)
    assert details["name"] == "Umweltamt"
    assert event.target_id == str(department.id)


def test_platform_admin_edits_a_department(client, as_user, platform_admin, buergeramt):
    as_user(platform_admin)
    response = post_form(
        client, f"/admin/aemter/{buergeramt.id}/bearbeiten", {"name": "Bürgeramt Musterstadt", "slug": "buergeramt"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Department, buergeramt.id).name == "Bürgeramt Musterstadt"


def test_invalid_slug_shows_the_error_next_to_the_field_and_keeps_input(client, as_user, platform_admin):
    as_user(platform_admin)
    response = post_form(client, "/admin/aemter/neu", {"name": "Umweltamt", "slug": "Umwelt Amt!"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="slug-error"' in page
    assert "Nur Kleinbuchstaben, Ziffern und Bindestriche" in page
    assert 'value="Umwelt Amt!"' in page
    assert 'value="Umweltamt"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Department)) == 0


def test_slug_taken_by_another_department_is_refused(client, as_user, platform_admin, buergeramt):
    as_user(platform_admin)
    response = post_form(client, "/admin/aemter/neu", {"name": "Zweites Bürgeramt", "slug": "buergeramt"})
    assert "Diese Kurzbezeichnung ist schon vergeben." in response.get_data(as_text=True)
    assert audit_events("department.saved") == []


def test_department_admin_cannot_create_or_edit_departments(client, as_user, department_admin, buergeramt):
    as_user(department_admin)
    assert client.get("/admin/aemter/neu").status_code == 403
    assert client.get(f"/admin/aemter/{buergeramt.id}/bearbeiten").status_code == 403


def test_overview_links_other_admin_pages_only_for_roles_they_admit(app, client, as_user):
    if "audit.admin_log" not in app.view_functions or "mail_admin.index" not in app.view_functions:
        pytest.skip("the audit log or outbox pages are not part of this build")
    dpo = make_user("dpo@stadt.example", roles=("dpo",), totp=True)
    as_user(dpo)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Audit-Protokoll" in page
    assert "Postausgang" not in page
    assert "keine Verwaltungsrechte" not in page
