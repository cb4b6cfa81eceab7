"""The request log names the path of every request, but never the secret token in a mailed link."""

from __future__ import annotations

import logging

from appointments.services.booking import hold_booking
from portal.actors import ANONYMOUS
from tests.appointments.web.builders import berlin, make_offers, open_tuesday


def test_request_log_masks_the_manage_token_of_a_mailed_link(client, app, caplog):
    offers = make_offers()
    held = hold_booking(
        ANONYMOUS,
        location_id=offers.mitte.id,
        items=[(offers.id_card.id, 1)],
        start=berlin(open_tuesday(), 10),
        name="Erika Mustermann",
        email="erika@example.org",
    )
    reference = held.booking.reference

    with caplog.at_level(logging.INFO, logger="stadtportal.request"):
        assert client.get(f"/termine/verwalten/{reference}/{held.manage_token}").status_code == 200

    lines = [r.getMessage() for r in caplog.records if r.name == "stadtportal.request"]
    assert lines == [f"GET /termine/verwalten/{reference}/*** 200"]
    assert held.manage_token not in caplog.text


def test_request_log_masks_an_unknown_token_too(client, app, caplog):
    with caplog.at_level(logging.INFO, logger="stadtportal.request"):
        client.get("/passwort-zuruecksetzen/guessed-or-leaked-token")

    assert "guessed-or-leaked-token" not in caplog.text
    assert "/passwort-zuruecksetzen/***" in caplog.text
