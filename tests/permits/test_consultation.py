"""Consulting the building authority through the data-access module: read under the department's agreement for
"Prüfung Sondernutzung" with the case number as reference, logged with the applicant as subject (their access log
shows it), records at other addresses left out, the case moved to consultation; without an agreement, refused."""

from __future__ import annotations

from datetime import date

import pytest

from dataaccess.models import AccessLog
from permits.errors import PermitError
from permits.models import PermitState
from permits.services import applications, consultation, desk
from portal.extensions import db
from tests.builders import PASSWORD
from tests.permits.builders import make_building_agreement, make_draft

S = PermitState


@pytest.fixture
def agreement_world(app, world):
    return make_building_agreement(app, world)


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
