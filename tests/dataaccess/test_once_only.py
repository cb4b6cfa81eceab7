"""Once-only: the preview a service sends the citizen to, "Ja, abrufen lassen" / "Nein, ich lade es selbst hoch",
and revoking a standing request from Mein Konto → Datenzugriffe."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from dataaccess.errors import AccessRefused
from dataaccess.models import CitizenRequest
from dataaccess.services import access
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.builders import csrf_from
from tests.dataaccess.builders import World, approved_agreement
from tests.portal.audit.helpers import sign_in

CASE = "S-2026-000123"


@pytest.fixture
def agreement(world: World):
    return approved_agreement(world, requires_citizen_request=True)


def _url(under, world: World, **changes) -> str:
    query = {"agreement": under.reference, "purpose": world.purpose.code, "case": CASE, "return": "/antrag/4?schritt=2"}
    query.update(changes)
    return "/konto/datenzugriffe/anfrage?" + urlencode({k: v for k, v in query.items() if v is not None})


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _answer(client, url: str, **data):
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _read(world: World, agreement, case=CASE):
    return access.read(
        Actor.for_user(world.official), agreement.reference, world.purpose.code, case, world.citizen.id, ["status"]
    )


def _requests() -> list[CitizenRequest]:
    return list(db.session.scalars(sa.select(CitizenRequest).order_by(CitizenRequest.id)))


def test_the_preview_shows_exactly_what_would_be_fetched_without_the_values(client, world, agreement):
    sign_in(client, world.citizen)
    response = client.get(_url(agreement, world))
    assert response.status_code == 200
    html = _text(response)
    assert "Straßenverkehrsamt" in html and "Bauordnungsamt" in html and "Baugenehmigungen" in html
    assert "Aktenzeichen" in html and "Bauvorhaben" in html and "Stand des Verfahrens" in html
    assert "Nachweis Schwerbehinderung" not in html  # not a field the agreement allows
    assert "Prüfung einer verkehrsrechtlichen Anordnung" in html
    assert "Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 45 StVO" in html
    assert CASE in html and agreement.reference in html
    assert "BG-2025-0101" not in html and "genehmigt" not in html
    assert "Ja, abrufen lassen" in html and "Nein, ich lade es selbst hoch" in html
    assert _requests() == []


def test_yes_creates_a_one_off_request_for_the_case_and_returns_with_the_flag(client, world, agreement):
    sign_in(client, world.citizen)
    with pytest.raises(AccessRefused):
        _read(world, agreement)
    response = _answer(client, _url(agreement, world), yes="1", scope="einmalig")
    assert response.status_code == 302
    assert response.headers["Location"] == "/antrag/4?schritt=2&datenabruf=ja"
    (request,) = _requests()
    assert (request.user_id, request.standing, request.case_reference) == (world.citizen.id, False, CASE)
    assert (request.consumer_department_id, request.dataset_id) == (world.verkehr.id, world.permits.id)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "dataaccess.citizen_request_created"))
    assert event is not None and event.subject_user_id == world.citizen.id
    assert _read(world, agreement).records == [{"status": "genehmigt"}]
    with pytest.raises(AccessRefused):  # one-off: used up
        _read(world, agreement)


def test_a_standing_request_is_listed_and_revoking_it_stops_further_reads(client, world, agreement):
    sign_in(client, world.citizen)
    _answer(client, _url(agreement, world), yes="1", scope="dauerhaft")
    (request,) = _requests()
    assert request.standing and request.case_reference is None
    _read(world, agreement)
    _read(world, agreement, case="S-2026-000999")
    page = _text(client.get("/konto/datenzugriffe"))
    assert "Ihre Anträge auf Datenabruf" in page and "dauerhaft, bis Sie widerrufen" in page
    revoke = f"/konto/datenzugriffe/antraege/{request.id}/widerrufen"
    assert client.post(revoke).status_code == 400  # no CSRF token
    token = csrf_from(client.get("/konto/datenzugriffe").get_data(as_text=True))
    response = client.post(revoke, data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert _requests()[0].revoked_at is not None
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "dataaccess.citizen_request_revoked"))
    with pytest.raises(AccessRefused) as refused:
        _read(world, agreement)
    assert refused.value.code == "citizen_request_missing"
    assert "Sie haben keinen offenen Antrag auf Datenabruf." in _text(client.get("/konto/datenzugriffe"))


def test_nobody_revokes_another_persons_request(client, world, agreement):
    sign_in(client, world.citizen)
    _answer(client, _url(agreement, world), yes="1", scope="dauerhaft")
    (request,) = _requests()
    other = client.application.test_client()
    sign_in(other, world.other_citizen)
    token = csrf_from(other.get("/konto/datenzugriffe").get_data(as_text=True))
    assert (
        other.post(f"/konto/datenzugriffe/antraege/{request.id}/widerrufen", data={"csrf_token": token}).status_code
        == 404
    )
    db.session.expire_all()
    assert _requests()[0].revoked_at is None


def test_no_returns_with_the_flag_and_asks_for_nothing(client, world, agreement):
    sign_in(client, world.citizen)
    response = _answer(client, _url(agreement, world), no="1")
    assert response.status_code == 302 and response.headers["Location"] == "/antrag/4?schritt=2&datenabruf=nein"
    assert _requests() == []


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\t/evil.example", "javascript:alert(1)"]
)
def test_a_return_address_off_this_site_is_ignored(client, world, agreement, target):
    sign_in(client, world.citizen)
    response = _answer(client, _url(agreement, world, **{"return": target}), no="1")
    assert response.status_code == 302 and response.headers["Location"] == "/konto/datenzugriffe"


@pytest.mark.parametrize(
    "changes",
    [
        {"agreement": "DZV-2026-999999"},
        {"agreement": "1"},
        {"agreement": None},
        {"purpose": "WERBUNG"},
        {"purpose": None},
        {"case": "x" * 500},
    ],
)
def test_an_invalid_link_shows_a_page_and_fetches_nothing(client, world, agreement, changes):
    sign_in(client, world.citizen)
    url = _url(agreement, world, **changes)
    response = client.get(url)
    assert response.status_code in (404, 422)
    assert "Datenabruf nicht möglich" in _text(response)
    assert client.post(url, data={"yes": "1"}).status_code in (400, 404, 422)
    assert _requests() == []


def test_an_agreement_that_needs_no_request_has_no_preview(client, world):
    plain = approved_agreement(world)
    sign_in(client, world.citizen)
    assert client.get(_url(plain, world)).status_code == 404


def test_the_preview_needs_a_signed_in_person(client, world, agreement):
    response = client.get(_url(agreement, world))
    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]
