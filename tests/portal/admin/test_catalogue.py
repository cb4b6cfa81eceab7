"""The service catalogue: entries with an owning department, an optional LeiKa key, switched off not deleted."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from portal.actors import Actor
from portal.admin.services import AdminError, catalogue
from portal.departments.models import CatalogueService
from portal.departments.services import list_catalogue
from portal.extensions import db
from tests.portal.admin.conftest import audit_events, post_form


def test_platform_admin_creates_a_catalogue_entry_and_it_is_audited(client, as_user, platform_admin, bauamt):
    as_user(platform_admin)
    response = post_form(
        client,
        "/admin/leistungen/neu",
        {
            "name": "Beratung Bauantrag",
            "description": "Gespräch vor dem Bauantrag",
            "department_id": str(bauamt.id),
            "leika_key": "",
        },
    )
    assert response.status_code == 302
    page = client.get("/admin/leistungen").get_data(as_text=True)
    assert "Beratung Bauantrag" in page and "Amt für Bauordnung und Denkmalpflege" in page
    entry = db.session.scalar(sa.select(CatalogueService))
    assert entry.department_id == bauamt.id and entry.active and entry.leika_key is None
    [(event, details)] = audit_events("catalogue.saved")
    assert details["name"] == "Beratung Bauantrag"
    assert event.actor_id == str(platform_admin.id)


def test_invalid_leika_key_shows_the_field_error_and_keeps_input(client, as_user, platform_admin, bauamt):
    as_user(platform_admin)
    response = post_form(
        client,
        "/admin/leistungen/neu",
        {"name": "Beratung Bauantrag", "department_id": str(bauamt.id), "leika_key": "9910"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="leika_key-error"' in page
    assert "Der LeiKa-Schlüssel hat genau 14 Ziffern." in page
    assert 'value="9910"' in page and 'value="Beratung Bauantrag"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CatalogueService)) == 0


def test_deactivated_entry_leaves_the_public_catalogue(client, as_user, department_admin, buergeramt):
    as_user(department_admin)
    post_form(client, "/admin/leistungen/neu", {"name": "Meldebescheinigung", "department_id": str(buergeramt.id)})
    entry = db.session.scalar(sa.select(CatalogueService))
    response = post_form(client, f"/admin/leistungen/{entry.id}/deaktivieren", {}, "/admin/leistungen")
    assert response.status_code == 302
    page = client.get("/admin/leistungen").get_data(as_text=True)
    assert "wurde deaktiviert" in page and "Wieder aktivieren" in page
    db.session.expire_all()
    assert list_catalogue() == []
    assert [d["active"] for _e, d in audit_events("catalogue.saved")] == [True, False]


def test_department_admin_only_offers_and_accepts_their_own_departments(
    client, as_user, department_admin, buergeramt, bauamt
):
    as_user(department_admin)
    form = client.get("/admin/leistungen/neu").get_data(as_text=True)
    assert "Bürgeramt" in form and "Bauordnung" not in form
    response = post_form(
        client, "/admin/leistungen/neu", {"name": "Beratung Bauantrag", "department_id": str(bauamt.id)}
    )
    assert response.status_code == 200
    assert 'id="department_id-error"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CatalogueService)) == 0
    # The service refuses too, whatever form sent it.
    with pytest.raises(AdminError) as refused:
        catalogue.save_entry(
            Actor.for_user(department_admin), catalogue.CatalogueData(name="Beratung", department_id=bauamt.id)
        )
    assert refused.value.field == "department_id"


def test_department_admin_cannot_edit_another_departments_entry(client, as_user, department_admin, bauamt):
    entry = CatalogueService(name="Beratung Bauantrag", department_id=bauamt.id)
    db.session.add(entry)
    db.session.commit()
    as_user(department_admin)
    assert client.get(f"/admin/leistungen/{entry.id}/bearbeiten").status_code == 403
    assert "Beratung Bauantrag" not in client.get("/admin/leistungen").get_data(as_text=True)
    with pytest.raises(Forbidden):
        catalogue.set_entry_active(Actor.for_user(department_admin), entry.id, False)
