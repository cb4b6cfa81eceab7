"""The applicant tidies up: a wrong attachment comes off while the case is a draft or while documents are requested
(then only what was added since the request), and a draft is deleted with its files. CSRF, ownership and the
business's members are checked; every change is audited."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from permits.models import PermitApplication, PermitAttachment
from permits.services import applications
from portal.accounts.models import OrganisationMember
from portal.accounts.services.organisations import create_organisation
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.audit.queries import details_of
from portal.extensions import db
from portal.files.models import StoredFile
from tests.builders import PASSWORD, make_user
from tests.permits.web import fill_everything, section, start_draft, upload_pdf


@pytest.fixture
def app_config(app_config: dict, tmp_path: Path) -> dict:
    return {**app_config, "FILE_STORAGE": "local", "FILE_STORAGE_PATH": str(tmp_path / "files")}


@pytest.fixture
def signed_in(world, auth):
    auth.login("antrag@example.org", PASSWORD)
    return world


def _case(public_id: str) -> PermitApplication | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(PermitApplication).where(PermitApplication.public_id == public_id))


def _attachments(public_id: str) -> list[PermitAttachment]:
    case = _case(public_id)
    assert case is not None
    return list(case.attachments)


def _file(key: str) -> StoredFile:
    stored = db.session.scalar(sa.select(StoredFile).where(StoredFile.key == key))
    assert stored is not None
    return stored


def _audited(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _remove_url(public_id: str, attachment_id: int) -> str:
    return f"/sondernutzung/antraege/{public_id}/anlagen/{attachment_id}/entfernen"


def test_a_wrong_attachment_comes_off_a_draft_with_its_file_and_an_audit_event(client, auth, signed_in):
    public_id = start_draft(client, auth)
    assert upload_pdf(auth, section(public_id, "unterlagen")).status_code == 302
    [attachment] = _attachments(public_id)
    page = client.get(section(public_id, "unterlagen")).get_data(as_text=True)
    assert _remove_url(public_id, attachment.id) in page

    # Without the form's token nothing happens.
    assert client.post(_remove_url(public_id, attachment.id)).status_code == 400
    assert len(_attachments(public_id)) == 1

    response = auth.post_form(_remove_url(public_id, attachment.id), {})
    assert response.status_code == 302 and response.headers["Location"].endswith("/unterlagen")
    assert _attachments(public_id) == []
    assert _file(attachment.file_key).deleted_at is not None
    [event] = _audited("permits.attachment_removed")
    assert details_of(event)["kind"] == "site_plan"
    assert auth.post_form(_remove_url(public_id, attachment.id), {}).status_code == 404  # gone


def test_somebody_else_can_neither_remove_an_attachment_nor_delete_the_draft(client, auth, signed_in):
    public_id = start_draft(client, auth)
    upload_pdf(auth, section(public_id, "unterlagen"))
    [attachment] = _attachments(public_id)
    auth.logout()
    make_user("fremd@example.org")
    auth.login("fremd@example.org", PASSWORD)
    assert auth.post_form(_remove_url(public_id, attachment.id), {}).status_code == 404
    assert auth.post_form(f"/sondernutzung/antraege/{public_id}/loeschen", {}).status_code == 404
    assert len(_attachments(public_id)) == 1 and _file(attachment.file_key).deleted_at is None


def test_while_documents_are_requested_only_the_new_ones_come_off_and_not_after(client, auth, signed_in):
    public_id = start_draft(client, auth)
    fill_everything(client, auth, public_id)
    upload_pdf(auth, section(public_id, "unterlagen"), kind="liability_insurance", name="versicherung.pdf")
    auth.post_form(section(public_id, "pruefen"), {})
    application = _case(public_id)
    assert application is not None and application.state == "submitted"
    [submitted] = _attachments(public_id)
    assert auth.post_form(_remove_url(public_id, submitted.id), {}).status_code == 302
    assert len(_attachments(public_id)) == 1  # submitted: refused

    officer = Actor.for_user(signed_in.officer)
    applications.move(officer, application, "formal_check")
    applications.move(officer, application, "documents_requested", note="Bitte Lageplan nachreichen")
    upload_pdf(auth, f"/sondernutzung/antraege/{public_id}/nachreichen", kind="traffic_sign_plan", name="falsch.pdf")
    new = next(a for a in _attachments(public_id) if a.id != submitted.id)
    page = client.get(f"/sondernutzung/antraege/{public_id}").get_data(as_text=True)
    assert _remove_url(public_id, new.id) in page and _remove_url(public_id, submitted.id) not in page

    refused = auth.post_form(_remove_url(public_id, submitted.id), {})
    assert refused.status_code == 302
    assert "nicht mehr entfernt" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert auth.post_form(_remove_url(public_id, new.id), {}).status_code == 302
    assert [a.id for a in _attachments(public_id)] == [submitted.id]

    upload_pdf(auth, f"/sondernutzung/antraege/{public_id}/nachreichen", kind="site_plan")
    auth.post_form(f"/sondernutzung/antraege/{public_id}/nachreichung-abschliessen", {})
    handed_back = _attachments(public_id)
    assert len(handed_back) == 2
    for attachment in handed_back:  # back with the clerk: nothing comes off any more
        auth.post_form(_remove_url(public_id, attachment.id), {})
    assert len(_attachments(public_id)) == 2


def test_a_draft_is_deleted_with_its_files_and_audited_but_a_submitted_case_is_not(client, auth, signed_in):
    public_id = start_draft(client, auth)
    upload_pdf(auth, section(public_id, "unterlagen"))
    [attachment] = _attachments(public_id)
    assert "Entwurf löschen" in client.get(f"/sondernutzung/antraege/{public_id}/aufgaben").get_data(as_text=True)
    assert client.post(f"/sondernutzung/antraege/{public_id}/loeschen").status_code == 400  # no token
    response = auth.post_form(f"/sondernutzung/antraege/{public_id}/loeschen", {})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sondernutzung/antraege")
    assert _case(public_id) is None
    assert _file(attachment.file_key).deleted_at is not None
    [event] = _audited("permits.draft_deleted")
    assert details_of(event)["attachments"] == 1

    other = start_draft(client, auth)
    fill_everything(client, auth, other)
    auth.post_form(section(other, "pruefen"), {})
    auth.post_form(f"/sondernutzung/antraege/{other}/loeschen", {})
    case = _case(other)
    assert case is not None and case.state == "submitted"


def test_a_member_acting_for_the_business_deletes_its_draft(client, auth, world):
    business = create_organisation(Actor.for_user(world.applicant), "Muster Bau GmbH")
    colleague = make_user("kollege@example.org")
    db.session.add(OrganisationMember(organisation_id=business.id, user_id=colleague.id, role="member"))
    db.session.commit()
    draft = applications.start_application(Actor.for_user(world.applicant, on_behalf_of=f"organisation:{business.id}"))
    auth.login("kollege@example.org", PASSWORD)
    url = f"/sondernutzung/antraege/{draft.public_id}/loeschen"
    assert auth.post_form(url, {}).status_code == 404  # as himself
    auth.post_form("/organisationen/handeln", {"organisation_id": str(business.id)})
    assert auth.post_form(url, {}).status_code == 302
    assert _case(draft.public_id) is None
