"""Issue 13: catalogue entries carry what to bring, a fee ("free", "varies" or an amount) and English texts;
one source for opening hours: the location admin shows the structured hours and a notes line, no free text."""

from __future__ import annotations

from datetime import time

import pytest
import sqlalchemy as sa

from appointments.models import OpeningPeriod
from portal.admin.services import AdminError
from portal.admin.services.catalogue import parse_fee
from portal.departments.models import CatalogueService
from portal.extensions import db
from tests.builders import make_location
from tests.portal.admin.conftest import audit_events, post_form


def _entry(department_id: int, **fields: str) -> dict[str, str]:
    return {"name": "Personalausweis beantragen", "department_id": str(department_id), **fields}


def test_an_admin_sets_fee_what_to_bring_and_english_texts_and_it_is_audited(
    client, as_user, department_admin, buergeramt
):
    as_user(department_admin)
    response = post_form(
        client,
        "/admin/leistungen/neu",
        _entry(
            buergeramt.id,
            fee_kind="fixed",
            fee_amount="37,00",
            bring="biometrisches Foto\n\n  alter Ausweis  ",
            name_en="Apply for an identity card",
            bring_en="biometric photo\nold identity card",
        ),
    )
    assert response.status_code == 302
    entry = db.session.scalar(sa.select(CatalogueService))
    assert (entry.fee_kind, entry.fee_cents) == ("fixed", 3700)
    assert entry.bring == "biometrisches Foto\nalter Ausweis"
    assert entry.name_en == "Apply for an identity card"
    [(_event, details)] = audit_events("catalogue.saved")
    assert details["fee_kind"] == "fixed" and details["fee_cents"] == 3700
    edit = client.get(f"/admin/leistungen/{entry.id}/bearbeiten").get_data(as_text=True)
    assert 'value="37,00"' in edit and "biometric photo" in edit


def test_a_fee_that_is_not_an_amount_is_a_field_error_and_nothing_is_saved(
    client, as_user, department_admin, buergeramt
):
    as_user(department_admin)
    response = post_form(client, "/admin/leistungen/neu", _entry(buergeramt.id, fee_kind="fixed", fee_amount="37,5x"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="fee_amount-error"' in page and 'value="37,5x"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CatalogueService)) == 0
    assert audit_events("catalogue.saved") == []


def test_an_unknown_fee_kind_is_a_field_error(client, as_user, department_admin, buergeramt):
    as_user(department_admin)
    response = post_form(client, "/admin/leistungen/neu", _entry(buergeramt.id, fee_kind="gratis"))
    assert response.status_code == 200
    assert 'id="fee_kind-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("kind", "amount", "cents"),
    [
        ("fixed", "37", 3700),
        ("fixed", "37,00 €", 3700),
        ("fixed", "1.234,50", 123450),
        ("fixed", "8.5", 850),
        ("free", "", None),
        ("varies", "", None),
        ("unknown", "", None),
    ],
)
def test_fees_are_read_the_german_and_the_plain_way(kind, amount, cents):
    assert parse_fee(kind, amount) == cents


@pytest.mark.parametrize(
    ("kind", "amount", "field"),
    [
        ("fixed", "", "fee_amount"),
        ("fixed", "0", "fee_amount"),
        ("fixed", "-3", "fee_amount"),
        ("fixed", "1,005", "fee_amount"),
        ("fixed", "nan", "fee_amount"),
        ("fixed", "1e9", "fee_amount"),
        ("free", "5", "fee_amount"),
        ("sometimes", "", "fee_kind"),
    ],
)
def test_fees_that_make_no_sense_are_refused_with_their_field(kind, amount, field):
    with pytest.raises(AdminError) as refused:
        parse_fee(kind, amount)
    assert refused.value.field == field


def test_the_database_refuses_an_amount_on_a_free_service(app, buergeramt):
    db.session.add(CatalogueService(name="X", department_id=buergeramt.id, fee_kind="free", fee_cents=100))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_location_list_shows_the_structured_hours_and_the_note(client, as_user, department_admin, buergeramt):
    location = make_location(buergeramt, "Bürgerbüro Mitte")
    location.notes = "Eingang über den Hof"
    db.session.add(OpeningPeriod(location_id=location.id, weekday=0, opens=time(8), closes=time(12)))
    db.session.commit()
    as_user(department_admin)
    page = client.get(f"/admin/aemter/{buergeramt.id}/standorte").get_data(as_text=True)
    assert "Montag: 08:00–12:00 Uhr" in page
    assert "Eingang über den Hof" in page
    assert f"/admin/termine/standorte/{location.id}/oeffnungszeiten" in page
    form = client.get(f"/admin/standorte/{location.id}/bearbeiten").get_data(as_text=True)
    assert 'name="opening_hours"' not in form and 'name="notes"' in form
