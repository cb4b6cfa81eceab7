"""The applicant's path through the pages: start, every section of the task list, uploads, check, submit, mail."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from permits.models import PermitApplication
from permits.services import applications
from portal.accounts.models import OrganisationMember
from portal.accounts.services.organisations import create_organisation
from portal.actors import Actor
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.builders import PASSWORD, make_user
from tests.permits.web import fill_everything, future, section, start_draft, upload_pdf
from tests.portal.files.samples import png


@pytest.fixture
def app_config(app_config: dict, tmp_path: Path) -> dict:
    return {**app_config, "FILE_STORAGE": "local", "FILE_STORAGE_PATH": str(tmp_path / "files")}


@pytest.fixture
def signed_in(world, auth):
    auth.login("antrag@example.org", PASSWORD)
    return world


def _case(public_id: str) -> PermitApplication:
    db.session.expire_all()
    return db.session.scalar(sa.select(PermitApplication).where(PermitApplication.public_id == public_id))


def test_a_whole_application_from_start_to_submission_with_an_upload_and_the_mail(client, auth, signed_in):
    public_id = start_draft(client, auth)
    tasks = client.get(section(public_id, "aufgaben")).get_data(as_text=True)
    assert "Noch offen" in tasks and "Angaben prüfen" in tasks

    fill_everything(client, auth, public_id)
    response = upload_pdf(auth, section(public_id, "unterlagen"))
    assert response.status_code == 302, response.get_data(as_text=True)
    tasks = client.get(section(public_id, "aufgaben")).get_data(as_text=True)
    assert "Noch offen" not in tasks
    assert "39,40 €" in tasks  # 6 m² × 3 days × 0.80 € + 25 € administrative fee

    check = client.get(section(public_id, "pruefen")).get_data(as_text=True)
    assert "Markt 3" in check and "Lageplan" in check and "39,40 €" in check
    assert "Die verkehrsrechtliche Anordnung wird mit beantragt." in check
    response = auth.post_form(section(public_id, "pruefen"), {})
    assert response.status_code == 302 and response.headers["Location"].endswith("/eingereicht")

    application = _case(public_id)
    assert application.state == "submitted" and application.reference.startswith("SNU-")
    assert application.fee_cents == 3940 and application.traffic_order_requested
    assert application.attached_kinds == {"site_plan"}
    done = client.get(section(public_id, "eingereicht")).get_data(as_text=True)
    assert application.reference in done and "Wie es weitergeht" in done
    [mail] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "permits_submitted"))
    assert mail.recipient == "antrag@example.org"
    assert application.reference in mail.subject and application.reference in mail.body_text
    assert f"/sondernutzung/antraege/{public_id}" in mail.body_text

    mine = client.get("/sondernutzung/antraege").get_data(as_text=True)
    assert application.reference in mine and "Eingegangen" in mine
    page = client.get(f"/sondernutzung/antraege/{public_id}").get_data(as_text=True)
    assert "39,40 €" in page and "Datei herunterladen" in page
    # A submitted case is no longer edited through the sections.
    assert client.get(section(public_id, "ort")).status_code == 302


def test_a_refused_period_keeps_what_was_typed_and_shows_the_error_next_to_the_field(client, auth, signed_in):
    public_id = start_draft(client, auth)
    first = future()
    response = auth.post_form(
        section(public_id, "zeitraum"),
        {"start": first.isoformat(), "end": "01.01.2020", "length_m": "3,5", "width_m": "0"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="error-summary"' in html
    assert 'value="3,5"' in html and 'value="01.01.2020"' in html
    assert 'id="end-error"' in html and "Das Ende darf nicht vor dem Beginn liegen." in html
    assert 'id="width_m-error"' in html
    assert _case(public_id).starts_on is None  # nothing of a refused save is kept


def test_an_unknown_street_is_refused_next_to_the_street_field(client, auth, signed_in):
    public_id = start_draft(client, auth)
    response = auth.post_form(section(public_id, "ort"), {"street": "Gibtsnichtweg", "house_number": "1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="street-error"' in html and "Diese Straße kennen wir nicht" in html
    assert 'value="Gibtsnichtweg"' in html


def test_a_start_inside_the_lead_time_is_refused_with_the_earliest_day(client, auth, signed_in):
    public_id = start_draft(client, auth)
    auth.post_form(section(public_id, "nutzung"), {"use_type": "scaffolding"})
    today = future(0)
    response = auth.post_form(
        section(public_id, "zeitraum"),
        {"start": today.isoformat(), "end": today.isoformat(), "length_m": "1", "width_m": "1"},
    )
    assert response.status_code == 422
    assert "Arbeitstage Vorlauf" in response.get_data(as_text=True)


def test_the_check_page_lists_what_is_missing_and_does_not_submit(client, auth, signed_in):
    public_id = start_draft(client, auth)
    fill_everything(client, auth, public_id, use_type="scaffolding")  # needs site plan and insurance
    response = auth.post_form(section(public_id, "pruefen"), {})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Es fehlen noch" in html and "Haftpflichtversicherung" in html
    assert f"/sondernutzung/antraege/{public_id}/unterlagen?zurueck=pruefen" in html
    assert _case(public_id).state == "draft"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_a_file_whose_content_is_not_allowed_is_refused_with_a_clear_message(client, auth, signed_in):
    public_id = start_draft(client, auth)
    auth.post_form(section(public_id, "nutzung"), {"use_type": "container"})
    response = upload_pdf(auth, section(public_id, "unterlagen"), kind="photo", name="foto.png")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="file-error"' in html and "PNG oder JPEG" in html
    assert _case(public_id).attachments == []
    ok = upload_pdf(auth, section(public_id, "unterlagen"), kind="photo", name="foto.png", data=png())
    assert ok.status_code == 302 and _case(public_id).attached_kinds == {"photo"}


def test_someone_elses_case_is_not_found(client, auth, world):
    owner = Actor.for_user(world.applicant)
    draft = applications.start_application(owner)
    make_user("fremd@example.org")
    auth.login("fremd@example.org", PASSWORD)
    for slug in ("", "/aufgaben", "/ort", "/pruefen", "/eingereicht"):
        assert client.get(f"/sondernutzung/antraege/{draft.public_id}{slug}").status_code == 404, slug
    assert draft.public_id not in client.get("/sondernutzung/antraege").get_data(as_text=True)
    assert client.get("/sondernutzung/antraege/" + "0" * 32).status_code == 404


def test_a_clerk_does_not_get_the_applicants_pages(client, auth, world):
    draft = applications.start_application(Actor.for_user(world.applicant))
    clerk = make_user(
        "sachbearbeitung@example.org", department=world.department, department_role="permit_officer", totp=True
    )
    assert applications.get_application(Actor.for_user(clerk), draft.public_id) is draft  # the service lets her see it
    auth.login("sachbearbeitung@example.org", PASSWORD)
    auth.totp(clerk)
    assert client.get(f"/sondernutzung/antraege/{draft.public_id}/aufgaben").status_code == 404


def test_a_business_member_sees_and_continues_the_organisations_case(client, auth, world):
    business = create_organisation(Actor.for_user(world.applicant), "Muster Bau GmbH")
    colleague = make_user("kollege@example.org", display_name="Karl Kollege")
    db.session.add(OrganisationMember(organisation_id=business.id, user_id=colleague.id, role="member"))
    db.session.commit()
    acting = Actor.for_user(world.applicant, on_behalf_of=f"organisation:{business.id}")
    draft = applications.start_application(acting)
    assert draft.organisation_id == business.id

    auth.login("kollege@example.org", PASSWORD)
    assert client.get(f"/sondernutzung/antraege/{draft.public_id}/aufgaben").status_code == 404  # as himself
    auth.post_form("/organisationen/handeln", {"organisation_id": str(business.id)})
    assert client.get(f"/sondernutzung/antraege/{draft.public_id}/aufgaben").status_code == 200
    # The permit names the business: its name is offered as the applicant's.
    assert 'value="Muster Bau GmbH"' in client.get(section(draft.public_id, "antragsteller")).get_data(as_text=True)
    assert draft.public_id in client.get("/sondernutzung/antraege").get_data(as_text=True)


def test_the_applicant_answers_a_request_for_documents(client, auth, signed_in):
    public_id = start_draft(client, auth)
    fill_everything(client, auth, public_id)
    auth.post_form(section(public_id, "pruefen"), {})
    application = _case(public_id)
    officer = Actor.for_user(signed_in.officer)
    applications.move(officer, application, "formal_check")
    applications.move(officer, application, "documents_requested", note="Bitte Lageplan nachreichen")

    page = client.get(f"/sondernutzung/antraege/{public_id}").get_data(as_text=True)
    assert "Bitte reichen Sie Unterlagen nach" in page
    response = upload_pdf(auth, f"/sondernutzung/antraege/{public_id}/nachreichen")
    assert response.status_code == 302
    assert _case(public_id).attached_kinds == {"site_plan"}
    response = auth.post_form(f"/sondernutzung/antraege/{public_id}/nachreichung-abschliessen", {})
    assert response.status_code == 302
    assert _case(public_id).state == "formal_check"


def test_the_applicant_withdraws_a_submitted_case(client, auth, signed_in):
    public_id = start_draft(client, auth)
    fill_everything(client, auth, public_id)
    auth.post_form(section(public_id, "pruefen"), {})
    response = auth.post_form(f"/sondernutzung/antraege/{public_id}/zurueckziehen", {})
    assert response.status_code == 302
    assert _case(public_id).state == "withdrawn"


def test_without_javascript_the_place_is_given_by_street_and_optionally_coordinates(client, auth, signed_in):
    public_id = start_draft(client, auth)
    plain = {"street": "Markt", "house_number": "3", "location_geojson": "", "location_geojson-nojs": "1"}
    assert auth.post_form(section(public_id, "ort"), plain).status_code == 302
    assert _case(public_id).location_geojson is None  # the street alone is no place on the map, and no error
    with_point = {**plain, "location_geojson-coordinates": "51.0504, 13.7373"}
    assert auth.post_form(section(public_id, "ort"), with_point).status_code == 302
    application = _case(public_id)
    assert '"Point"' in application.location_geojson and application.zone == 1
