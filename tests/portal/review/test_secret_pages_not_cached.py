"""Pages that show or carry a secret token are never kept in a browser's or a shared cache."""

from __future__ import annotations

from appointments.services.booking import hold_booking
from portal.actors import ANONYMOUS
from tests.appointments.web.builders import Wizard, berlin, make_offers, open_tuesday


def test_page_after_booking_with_the_manage_link_is_not_cached(client, app):
    offers = make_offers()
    wizard = Wizard(client)
    assert wizard.all_steps(offers, berlin(open_tuesday(), 10)).headers["Location"] == "/termine/buchen/gebucht"

    done = client.get("/termine/buchen/gebucht")

    assert done.status_code == 200
    assert done.headers.get("Cache-Control") == "no-store"


def test_manage_page_reached_by_mailed_link_is_not_cached(client, app):
    offers = make_offers()
    held = hold_booking(
        ANONYMOUS,
        location_id=offers.mitte.id,
        items=[(offers.id_card.id, 1)],
        start=berlin(open_tuesday(), 10),
        name="Erika Mustermann",
        email="erika@example.org",
    )

    page = client.get(f"/termine/verwalten/{held.booking.reference}/{held.manage_token}")

    assert page.status_code == 200
    assert page.headers.get("Cache-Control") == "no-store"


def test_public_pages_without_a_token_keep_their_caching(client, app):
    assert "Cache-Control" not in client.get("/impressum").headers
