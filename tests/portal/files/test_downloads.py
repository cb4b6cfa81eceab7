"""Downloads go through one access-checked route: as an attachment, never sniffed, never cached; anything a person
may not read looks exactly like something that does not exist; and a clerk's read shows in the owner's log."""

from __future__ import annotations

import pytest

from portal.accounts.models import OrganisationMember
from portal.accounts.services.organisations import create_organisation
from portal.actors import Actor
from portal.extensions import db
from portal.files import UploadPolicy, delete_file, download_url, register_access_rule, store_upload
from portal.files.models import StoredFile
from tests.builders import make_department, make_user
from tests.portal.files import samples
from tests.portal.files.conftest import actor, details, events

POLICY = UploadPolicy()


def _clerks_of_the_building_office(actor: Actor, stored: StoredFile) -> bool:
    user = actor.user
    return user is not None and any(m.role == "clerk" and m.department.slug == "bauamt" for m in user.memberships)


register_access_rule("tests.case_file", _clerks_of_the_building_office)


def _store(user, data: bytes = b"", name: str = "Lageplan.pdf", purpose: str = "tests.case_file", **owner):
    return store_upload(actor(user, **owner), samples.upload(data or samples.pdf(2), name), POLICY, purpose=purpose)


def _url(stored: StoredFile) -> str:
    return f"/dateien/{stored.key}"


def _clerk(slug: str, email: str):
    department = make_department(slug=slug, name=slug.title())
    return make_user(email, department=department, department_role="clerk", totp=True)


def _sign_in_clerk(auth, clerk) -> None:
    auth.login(clerk.email)
    auth.totp(clerk)


def test_owner_downloads_the_file_as_an_attachment_with_safe_headers(app, client, auth, anna):
    data = samples.pdf(2)
    stored = _store(anna, data, "Lageplan Hauptstraße 1.pdf")
    auth.login("anna@example.org")

    response = client.get(_url(stored))

    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/pdf"
    assert response.content_length == len(data)
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Lageplan Hauptstra_e 1.pdf\"; filename*=UTF-8''Lageplan%20Hauptstra%C3%9Fe%201.pdf"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert events("file.downloaded") == []  # the owner's own reads are not the trail's business


def test_the_download_address_carries_the_public_key_not_the_id_or_the_storage_name(app, anna):
    stored = _store(anna)
    with app.test_request_context():
        url = download_url(stored)
    assert url == f"/dateien/{stored.key}"
    segments = url.split("/")
    assert stored.storage_key not in url
    assert str(stored.id) not in segments  # a random key may well start with the id's digits


def test_signed_out_visitors_are_sent_to_sign_in(app, client, anna):
    stored = _store(anna)
    response = client.get(f"/dateien/{stored.key}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/anmelden")


def test_another_citizen_gets_the_same_404_as_for_a_key_that_does_not_exist(app, client, auth, anna, ben):
    stored = _store(anna)
    auth.login("ben@example.org")

    theirs = client.get(f"/dateien/{stored.key}")
    unknown = client.get("/dateien/" + "x" * 43)

    assert theirs.status_code == unknown.status_code == 404
    assert theirs.mimetype == "text/html" and "%PDF" not in theirs.get_data(as_text=True)
    assert events("file.downloaded") == []


def test_a_deleted_file_can_no_longer_be_downloaded(app, client, auth, anna, files_dir):
    stored = _store(anna)
    key = stored.key
    delete_file(actor(anna), key)
    auth.login("anna@example.org")

    assert client.get(f"/dateien/{key}").status_code == 404
    assert [p for p in files_dir.rglob("*") if p.is_file()] == []
    [event] = events("file.deleted", subject_user_id=anna.id)
    assert details(event) == {"purpose": "tests.case_file"}


def test_members_of_the_business_read_its_files_and_others_do_not(app, client, auth, anna, ben):
    organisation = create_organisation(actor(anna), "Bau GmbH")
    db.session.add(OrganisationMember(organisation_id=organisation.id, user_id=ben.id, role="member"))
    db.session.commit()
    stored = _store(anna, on_behalf_of=f"organisation:{organisation.id}")
    assert (stored.organisation_id, stored.owner_user_id) == (organisation.id, None)
    make_user("carl@example.org")

    auth.login("ben@example.org")
    assert client.get(_url(stored)).status_code == 200
    auth.logout()
    auth.login("carl@example.org")
    assert client.get(_url(stored)).status_code == 404


def test_a_clerk_of_the_right_department_reads_a_case_file_and_the_citizen_sees_it_in_their_log(
    app, client, auth, anna
):
    data = samples.pdf(1)
    stored = _store(anna, data)
    clerk = _clerk("bauamt", "clerk@stadt.example")
    _sign_in_clerk(auth, clerk)

    response = client.get(_url(stored))

    assert response.status_code == 200 and response.data == data
    [event] = events("file.downloaded", subject_user_id=anna.id)
    assert event.actor_id == str(clerk.id)
    assert event.target_type == "stored_file" and event.target_id == str(stored.id)
    assert details(event) == {"purpose": "tests.case_file"}

    auth.logout()
    auth.login("anna@example.org")
    log = client.get("/konto/protokoll").get_data(as_text=True)
    assert "Ihre Datei wurde von der Verwaltung geöffnet" in log


def test_a_clerk_of_another_department_gets_404_and_nothing_is_recorded(app, client, auth, anna):
    stored = _store(anna)
    clerk = _clerk("ordnungsamt", "other-clerk@stadt.example")
    _sign_in_clerk(auth, clerk)

    assert client.get(_url(stored)).status_code == 404
    assert events("file.downloaded") == []


def test_the_access_rule_applies_only_to_its_own_purpose(app, client, auth, anna):
    stored = _store(anna, purpose="tests.private_note")
    _sign_in_clerk(auth, _clerk("bauamt", "clerk@stadt.example"))

    assert client.get(_url(stored)).status_code == 404


def test_a_second_service_cannot_take_over_a_purpose(app):
    register_access_rule("tests.case_file", _clerks_of_the_building_office)  # the same rule again is fine
    with pytest.raises(ValueError, match="already has an access rule"):
        register_access_rule("tests.case_file", lambda actor, stored: True)


def test_a_missing_object_answers_404_not_a_server_error(app, client, auth, anna, files_dir):
    stored = _store(anna)
    (files_dir / stored.storage_key).unlink()
    auth.login("anna@example.org")

    assert client.get(_url(stored)).status_code == 404
