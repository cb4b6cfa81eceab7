"""Consulting the building authority through the data-access module: read under the department's agreement for
"Prüfung Sondernutzung" with the case number as reference, logged with the applicant as subject (their access log
shows it), records at other addresses left out, the case moved to consultation; without an agreement, refused."""

from __future__ import annotations

from datetime import date

import pytest

from dataaccess.models import AccessLog
from dataaccess.services import catalogue as da_catalogue
from dataaccess.services import records
from permits.errors import PermitError
from permits.models import PermitState
from permits.services import applications, consultation, desk
from portal.actors import SYSTEM, Actor
from portal.extensions import db
from tests.builders import PASSWORD
from tests.dataaccess import builders as da
from tests.permits.builders import make_draft

S = PermitState


@pytest.fixture
def agreement_world(app, world):
    app.config["PERMITS_BUILDING_DATASET"] = "bauamt.baugenehmigungen"
    data = da.make_world()
    steward = Actor.for_user(data.steward)
    da_catalogue.save_field(steward, data.permits.id, name="grundstueck", label="Grundstück", category="address")
    snu = da_catalogue.save_purpose(Actor.for_user(data.dpo), code="SNU-PRUEFUNG", label="Prüfung Sondernutzung")
    da.add_member(data.drafter, world.department, "department_admin")
    agreement = da.approved_agreement(
        data,
        consumer_department_id=world.department.id,
        fields=["aktenzeichen", "vorhaben", "grundstueck", "status"],
        purposes=[snu.code],
    )
    for number, address in (("BG-2026-0500", "Markt 3, 01067 Musterstadt"), ("BG-2024-0001", "Lindenstraße 1")):
        records.put_record(
            SYSTEM,
            "bauamt.baugenehmigungen",
            number,
            records.Subject(user_id=world.applicant.id),
            {"aktenzeichen": number, "vorhaben": "Fassadensanierung", "grundstueck": address, "status": "genehmigt"},
        )
    return agreement


def _checked(world):
    actor = world.applicant_actor
    application = applications.submit(actor, make_draft(actor), today=date(2026, 5, 4))
    return desk.accept(world.officer_actor, application)


def test_the_clerk_reads_the_building_record_at_the_address_and_the_access_is_logged(world, agreement_world):
    application = _checked(world)
    found = consultation.consult_building_authority(world.officer_actor, application)
    assert [r["aktenzeichen"] for r in found.records] == ["BG-2026-0500"]
    assert found.agreement == agreement_world.reference
    log = db.session.get(AccessLog, found.log_id)
    assert log.case_reference == application.reference and log.subject_user_id == world.applicant.id
    assert application.state == S.CONSULTATION
    desk.grant(world.officer_actor, application, desk.Grant(date(2026, 6, 1), date(2026, 6, 3)))  # still decidable


def test_the_applicant_sees_the_consultation_in_their_access_log(client, auth, world, agreement_world):
    application = _checked(world)
    consultation.consult_building_authority(world.officer_actor, application)
    auth.login("antrag@example.org", PASSWORD)
    page = client.get("/konto/datenzugriffe").get_data(as_text=True)
    assert application.reference in page


def test_without_an_agreement_the_consultation_is_refused_and_nothing_moves(world):
    application = _checked(world)
    with pytest.raises(PermitError) as refused:
        consultation.consult_building_authority(world.officer_actor, application)
    assert refused.value.code == "no_agreement" and application.state == S.FORMAL_CHECK


def test_the_desk_page_consults_and_shows_the_record(app, world, agreement_world):
    from tests.builders import AuthActions

    application = _checked(world)
    clerk = AuthActions(app.test_client())
    clerk.login(world.officer.email, PASSWORD)
    clerk.totp(world.officer)
    response = clerk.post_form(f"/sondernutzung/amt/{application.public_id}/bauordnungsamt", {})
    assert response.status_code == 200 and "BG-2026-0500" in response.text and "BG-2024-0001" not in response.text
    assert agreement_world.reference in response.text
