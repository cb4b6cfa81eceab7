"""The department admin sets which fee a catalogue service costs and whether a cancellation refunds it; the
demo links Personalausweis and Reisepass to the demo fee catalogue's codes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from appointments import demo
from appointments.models import ServiceFee
from portal.audit.models import AuditEvent
from portal.demo_data import load_core
from portal.departments.models import CatalogueService
from portal.extensions import db
from tests.appointments.builders import make_catalogue_service
from tests.appointments.web.builders import text
from tests.builders import csrf_from, make_department, make_user
from tests.payments.builders import make_fee


@pytest.fixture
def admin_of(auth):
    def sign_in(department, role="department_admin"):
        user = make_user(f"{role}@stadt.example", department=department, department_role=role, totp=True)
        auth.login(user.email)
        assert auth.totp(user).status_code in (302, 303)
        return user

    return sign_in


def _save(client, service_id: int, **data):
    url = f"/admin/termine/gebuehren/{service_id}"
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data})


def test_a_department_admin_sets_the_fee_and_refund_policy_of_a_service(client, app, admin_of):
    department = make_department()
    passport = make_catalogue_service(department, "Reisepass beantragen")
    make_fee("REISEPASS", 7000)
    admin_of(department)

    overview = client.get("/admin/termine/gebuehren")
    assert "Reisepass beantragen" in text(overview)
    form = client.get(f"/admin/termine/gebuehren/{passport.id}")
    assert "REISEPASS – Gebühr REISEPASS (70,00 €)" in text(form)

    saved = _save(client, passport.id, fee_code="REISEPASS", refund="hours", refund_hours="48")
    assert saved.status_code == 302
    link = db.session.get(ServiceFee, passport.id)
    assert (link.fee_code, link.refund_hours_before) == ("REISEPASS", 48)
    assert "REISEPASS: 70,00 €" in text(client.get("/admin/termine/gebuehren"))
    assert "bis 48 Stunden vorher" in text(client.get("/admin/termine/gebuehren"))
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "appointment.fee_saved")) == 1

    _save(client, passport.id, fee_code="REISEPASS", refund="never", refund_hours="")
    db.session.expire_all()
    assert db.session.get(ServiceFee, passport.id).refund_hours_before is None

    _save(client, passport.id, fee_code="", refund="never")
    db.session.expire_all()
    assert db.session.get(ServiceFee, passport.id) is None


def test_a_fee_code_the_treasury_does_not_have_is_refused(client, app, admin_of):
    department = make_department()
    passport = make_catalogue_service(department, "Reisepass beantragen")
    admin_of(department)
    refused = _save(client, passport.id, fee_code="ERFUNDEN", refund="hours", refund_hours="24")
    assert refused.status_code == 422
    assert "Diese Gebühr gibt es im Gebührenkatalog der Stadtkasse nicht" in text(refused)
    assert db.session.get(ServiceFee, passport.id) is None


def test_the_admin_of_another_department_may_not_set_the_fee(client, app, admin_of):
    passport = make_catalogue_service(make_department(), "Reisepass beantragen")
    admin_of(make_department("bauordnung", "Bauordnungsamt"))
    assert client.get(f"/admin/termine/gebuehren/{passport.id}").status_code == 403
    assert "Reisepass beantragen" not in text(client.get("/admin/termine/gebuehren"))


def test_a_clerk_may_not_set_fees(client, app, admin_of):
    department = make_department()
    passport = make_catalogue_service(department, "Reisepass beantragen")
    admin_of(department, role="clerk")
    assert client.get(f"/admin/termine/gebuehren/{passport.id}").status_code == 403


def _fees() -> dict[str, tuple[str, int | None]]:
    rows = db.session.execute(
        sa.select(CatalogueService.name, ServiceFee.fee_code, ServiceFee.refund_hours_before).join(
            ServiceFee, ServiceFee.catalogue_service_id == CatalogueService.id
        )
    )
    return {name: (code, hours) for name, code, hours in rows}


def test_the_demo_links_the_id_card_and_passport_fees_once_even_before_the_fee_catalogue_exists(app):
    load_core(echo=lambda _line: None)
    lines: list[str] = []
    demo.load(echo=lines.append)
    assert _fees() == {
        "Personalausweis beantragen": ("PERSONALAUSWEIS", 24),
        "Reisepass beantragen": ("REISEPASS", 24),
    }
    assert "  service fees: 2 created, 0 already present" in lines

    lines.clear()
    demo.load(echo=lines.append)
    assert "  service fees: 0 created, 2 already present" in lines
    assert len(_fees()) == 2
