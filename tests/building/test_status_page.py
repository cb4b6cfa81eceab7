"""Bauen: the citizen reads the status of their own building applications under the portal's agreement; every
read is logged where they see it; without a client, or with its token revoked, the page says so."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from building import services
from building.setup import connect_portal_client
from dataaccess.models import AccessLog
from dataaccess.services import catalogue
from portal.accounts.models import ApiToken
from portal.actors import SYSTEM, Actor
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import PASSWORD
from tests.dataaccess.builders import World, approved_agreement, make_world


@pytest.fixture
def world(app) -> World:
    return make_world()


def connect(world: World) -> str:
    purpose = catalogue.save_purpose(Actor.for_user(world.dpo), code="AUSK-BETR", label="Auskunft an Betroffene")
    agreement = approved_agreement(world, purposes=[purpose.code], fields=["aktenzeichen", "vorhaben", "status"])
    connect_portal_client(SYSTEM, agreement.reference)
    return agreement.reference


def read_page(client, auth, world: World) -> str:
    auth.login(world.citizen.email, PASSWORD)
    page = client.get("/bauen/")
    assert page.status_code == 200
    response = client.post("/bauen/", data={"csrf_token": auth.csrf("/bauen/")})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    response = client.get("/bauen/")
    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]


def test_citizen_sees_only_their_own_applications_and_the_read_is_logged(client, auth, world):
    reference = connect(world)
    html = read_page(client, auth, world)
    assert "BG-2025-0101" in html and "genehmigt" in html
    assert "BG-2026-0007" not in html  # the neighbour's
    (row,) = db.session.scalars(sa.select(AccessLog))
    assert (row.subject_user_id, row.outcome, row.agreement_reference) == (world.citizen.id, "granted", reference)
    assert row.case_reference == services.CASE_REFERENCE
    log = client.get("/konto/datenzugriffe").get_data(as_text=True)
    assert "Auskunft an Betroffene" in log and services.CASE_REFERENCE in log


def test_without_a_portal_client_the_page_says_it_is_not_set_up(client, auth, world):
    html = read_page(client, auth, world)
    assert "noch nicht eingerichtet" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLog)) == 0


def test_a_revoked_client_reads_nothing(client, auth, world):
    connect(world)
    token = db.session.scalar(sa.select(ApiToken))
    token.revoked_at = utcnow()
    db.session.commit()
    html = read_page(client, auth, world)
    assert "noch nicht eingerichtet" in html and "BG-2025-0101" not in html


def test_a_refused_read_shows_a_message_and_no_records(client, auth, world):
    connect(world)
    client.application.config["BUILDING_PURPOSE"] = "WERBUNG"  # not allowed by the agreement
    html = read_page(client, auth, world)
    assert "zurzeit nicht möglich" in html and "BG-2025-0101" not in html
    (row,) = db.session.scalars(sa.select(AccessLog))
    assert row.outcome == "refused"


def test_the_service_refuses_a_machine_client_as_the_subject(world):
    from werkzeug.exceptions import Forbidden

    with pytest.raises(Forbidden):
        services.my_applications(SYSTEM)
