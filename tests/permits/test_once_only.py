"""The applicant's once-only request: where the agreement lets the building authority's records be read only on
the citizen's own request, the applicant's case page offers that request (with the data-access preview), and the
clerk's consultation for this case then goes through instead of being refused."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from dataaccess.models import AccessLog, CitizenRequest
from dataaccess.services import once_only
from permits.errors import PermitError
from permits.models import PermitState
from permits.services import applications, consultation, desk
from portal.actors import Actor
from portal.extensions import db
from tests.builders import PASSWORD, csrf_from, make_user
from tests.permits.builders import make_building_agreement, make_draft

S = PermitState


@pytest.fixture
def agreement(app, world):
    return make_building_agreement(app, world, requires_citizen_request=True)


def _checked(world):
    actor = world.applicant_actor
    application = applications.submit(actor, make_draft(actor), today=date(2026, 5, 4))
    return desk.accept(world.officer_actor, application)


def _open_requests() -> list[CitizenRequest]:
    return list(db.session.scalars(sa.select(CitizenRequest).where(CitizenRequest.used_at.is_(None))))


def test_without_the_applicants_request_the_consultation_is_refused_and_says_why(world, agreement):
    application = _checked(world)
    with pytest.raises(PermitError) as refused:
        consultation.consult_building_authority(world.officer_actor, application)
    assert refused.value.code == "citizen_request_missing"
    assert "Antragsseite" in str(refused.value.message)
    assert application.state == S.FORMAL_CHECK


def test_the_applicant_is_offered_the_request_for_this_case_only_where_the_agreement_needs_it(world, agreement):
    application = _checked(world)
    offer = consultation.once_only_offer(world.applicant_actor, application)
    assert offer is not None and not offer.asked
    assert (offer.agreement, offer.purpose, offer.case_reference) == (
        agreement.reference,
        "SNU-PRUEFUNG",
        application.reference,
    )
    assert consultation.once_only_offer(world.officer_actor, application) is None  # the clerk is not the subject
    stranger = Actor.for_user(make_user("fremd@example.org"))
    assert consultation.once_only_offer(stranger, application) is None


def test_no_offer_when_the_agreement_does_not_need_the_citizens_request(app, world):
    make_building_agreement(app, world)
    assert consultation.once_only_offer(world.applicant_actor, _checked(world)) is None


def test_with_the_applicants_request_the_clerk_reads_once_and_the_request_is_used_up(world, agreement):
    application = _checked(world)
    offer = consultation.once_only_offer(world.applicant_actor, application)
    once_only.consent(world.applicant_actor, offer.agreement, offer.purpose, offer.case_reference)
    assert consultation.once_only_offer(world.applicant_actor, application).asked
    found = consultation.consult_building_authority(world.officer_actor, application)
    assert [r["aktenzeichen"] for r in found.records] == ["BG-2026-0500"]
    log = db.session.get(AccessLog, found.log_id)
    assert log.case_reference == application.reference and log.subject_user_id == world.applicant.id
    assert application.state == S.CONSULTATION and _open_requests() == []
    with pytest.raises(PermitError) as again:  # a one-off request allows one read
        consultation.consult_building_authority(world.officer_actor, application)
    assert again.value.code == "citizen_request_missing"


def test_a_request_for_another_case_does_not_open_this_one(world, agreement):
    application = _checked(world)
    other = _checked(world)
    offer = consultation.once_only_offer(world.applicant_actor, other)
    once_only.consent(world.applicant_actor, offer.agreement, offer.purpose, other.reference)
    with pytest.raises(PermitError) as refused:
        consultation.consult_building_authority(world.officer_actor, application)
    assert refused.value.code == "citizen_request_missing"


def test_the_case_page_offers_the_preview_and_the_request_leads_back_to_the_case(client, auth, world, agreement):
    application = _checked(world)
    auth.login("antrag@example.org", PASSWORD)
    page = client.get(f"/sondernutzung/antraege/{application.public_id}").get_data(as_text=True)
    assert 'id="datenabruf-link"' in page
    link = page.split('id="datenabruf-link" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    preview = client.get(link)
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "Prüfung Sondernutzung" in text and application.reference in text
    answer = client.post(link, data={"csrf_token": csrf_from(text), "scope": "einmalig", "yes": "1"})
    assert answer.status_code == 302 and f"/antraege/{application.public_id}" in answer.headers["Location"]
    [request] = _open_requests()
    assert request.case_reference == application.reference and not request.standing
    page = client.get(f"/sondernutzung/antraege/{application.public_id}").get_data(as_text=True)
    assert 'id="datenabruf-status"' in page and 'id="datenabruf-link"' not in page
