"""Display links for waiting-room screens: made and revoked by the department admin (audited), they open a
kiosk view of exactly one location's queue, without signing in."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from appointments.models import DisplayToken
from appointments.services import desk as desk_services
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.appointments.builders import make_bookable_location
from tests.appointments.desk.builders import make_booking, today_at
from tests.builders import csrf_from


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _make_link(client, location_id: int, label: str = "Wartebereich EG") -> str:
    url = f"/schalter/{location_id}/bildschirme"
    page = client.get(url)
    assert page.status_code == 200
    made = client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), "label": label})
    assert made.status_code == 200
    assert made.headers["Cache-Control"] == "no-store"
    [link] = re.findall(rf'href="(http://[^"]*/schalter/{location_id}/anzeige/[^"]+)"', made.get_data(as_text=True))
    return link.split("://", 1)[1].split("/", 1)[1]


def test_a_department_admin_makes_a_display_link_that_shows_the_queue_as_a_kiosk(app, client, desk, sign_in):
    booking = make_booking(desk.location, desk.service, starts_at=today_at(8), name="Carla Geheim")
    desk_services.check_in(Actor.for_user(desk.clerk), desk.location.id, booking.reference)
    sign_in(desk.admin)
    path = "/" + _make_link(client, desk.location.id)
    [event] = _events("appointment.display_token_created")
    assert json.loads(event.details)["label"] == "Wartebereich EG"
    token = path.rsplit("/", 1)[1]
    assert db.session.scalar(sa.select(DisplayToken.token_hash)) != token  # only its hash is stored

    screen = app.test_client()  # nobody signed in on the screen
    response = screen.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Refresh"] == "10"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Carla" not in page and booking.reference not in page
    assert "<nav" not in page and "<a " not in page  # a kiosk: no navigation, no links
    assert re.search(r'id="waiting-heading".*<li>1</li>', page, re.S)


def test_a_display_link_shows_only_its_own_location_and_stops_when_revoked(app, client, desk, sign_in):
    other = make_bookable_location(department=desk.location.department, name="Bürgerbüro Süd")
    sign_in(desk.admin)
    path = "/" + _make_link(client, desk.location.id)
    token = path.rsplit("/", 1)[1]
    screen = app.test_client()
    assert screen.get(f"/schalter/{other.id}/anzeige/{token}").status_code == 404
    assert screen.get(f"/schalter/{desk.location.id}/anzeige/not-a-token").status_code == 404

    row = db.session.scalar(sa.select(DisplayToken))
    page = client.get(f"/schalter/{desk.location.id}/bildschirme").get_data(as_text=True)
    revoked = client.post(
        f"/schalter/{desk.location.id}/bildschirme/{row.id}/widerrufen", data={"csrf_token": csrf_from(page)}
    )
    assert revoked.status_code == 302
    assert len(_events("appointment.display_token_revoked")) == 1
    assert screen.get(path).status_code == 404


def test_clerks_cannot_make_or_revoke_display_links(client, desk, sign_in):
    sign_in(desk.clerk)
    assert client.get(f"/schalter/{desk.location.id}/bildschirme").status_code == 403
    page = client.get(f"/schalter/{desk.location.id}", follow_redirects=True).get_data(as_text=True)
    refused = client.post(
        f"/schalter/{desk.location.id}/bildschirme", data={"csrf_token": csrf_from(page), "label": "X"}
    )
    assert refused.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DisplayToken)) == 0
