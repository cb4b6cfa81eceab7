"""Data access in "Meine Daten" and when an account is deleted: the access log and the requests are exported;
open requests are revoked, the access log is kept (the record of lawful processing) and the page says so."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from dataaccess.errors import AccessRefused
from dataaccess.models import AccessLog, CitizenRequest
from dataaccess.services import access, citizen_requests
from portal.actors import Actor
from portal.extensions import db
from tests.builders import PASSWORD
from tests.dataaccess.builders import World, approved_agreement

CASE = "VA-2026-0815"


def _read(world: World, agreement, subject=None, fields=("aktenzeichen", "status")):
    return access.read(
        Actor.for_user(world.official), agreement.reference, world.purpose.code, CASE, (subject or world.citizen).id,
        list(fields),
    )  # fmt: skip


def _request(world: World, user=None, *, standing=True) -> CitizenRequest:
    return citizen_requests.create_request(
        Actor.for_user(user or world.citizen),
        consumer_department_id=world.verkehr.id,
        dataset_id=world.permits.id,
        purpose_code=world.purpose.code,
        standing=standing,
    )


def test_the_export_holds_the_persons_accesses_and_requests_only(client, auth, world):
    agreement = approved_agreement(world)
    granted = _read(world, agreement)
    with pytest.raises(AccessRefused):
        _read(world, agreement, fields=("behinderung",))
    _read(world, agreement, subject=world.other_citizen)
    _request(world)
    _request(world, world.other_citizen)
    auth.login("buerger@example.org")

    data = json.loads(client.get("/konto/daten.json").data)["services"]["dataaccess"]

    assert [a["outcome"] for a in data["accesses"]] == ["granted", "refused"]
    first = data["accesses"][0]
    assert first["audit_seq"] == granted.audit_seq() and first["department"] == "Straßenverkehrsamt"
    assert first["legal_basis"] == "Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 45 StVO" and first["case_reference"] == CASE
    assert [f["label"] for f in first["fields"]] == ["Aktenzeichen", "Stand des Verfahrens"]
    (request,) = data["requests"]
    assert request["standing"] is True and request["dataset"] == "Baugenehmigungen" and request["revoked_at"] is None
    summary = client.get("/konto/daten").get_data(as_text=True)
    assert "Datenzugriffe zwischen Ämtern" in summary and "Straßenverkehrsamt" in summary


def test_deleting_the_account_revokes_open_requests_and_keeps_the_access_log(client, auth, world):
    agreement = approved_agreement(world)
    _read(world, agreement)
    mine = _request(world)
    theirs = _request(world, world.other_citizen)
    auth.login("buerger@example.org")

    page = client.get("/konto/loeschen").get_data(as_text=True)
    assert "Ihr offener Antrag auf Datenabruf wird widerrufen." in page
    assert "1 Eintrag über einen Zugriff auf Ihre Daten bleibt erhalten" in page

    done = auth.post_form("/konto/loeschen", {"password": PASSWORD, "confirm": "y"}, follow_redirects=True)

    assert done.status_code == 200
    db.session.expire_all()
    assert db.session.get(CitizenRequest, mine.id).revoked_at is not None
    assert db.session.get(CitizenRequest, theirs.id).revoked_at is None
    kept = db.session.scalar(
        sa.select(sa.func.count(AccessLog.id)).where(AccessLog.subject_user_id == world.citizen.id)
    )
    assert kept == 1
