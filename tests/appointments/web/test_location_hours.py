"""The location step shows each location's opening hours, from the structured intervals the slots come from."""

from __future__ import annotations

from datetime import time

from appointments.models import OpeningPeriod
from portal.extensions import db
from tests.appointments.web.builders import Wizard, make_offers, text


def test_the_location_step_shows_each_location_s_opening_hours(client, app):
    offers = make_offers()
    db.session.add(OpeningPeriod(location_id=offers.nord.id, weekday=5, opens=time(9), closes=time(11, 30)))
    db.session.commit()
    Wizard(client).services((offers.id_card, 1))
    page = text(client.get("/termine/buchen/standort"))
    assert "Öffnungszeiten" in page
    nord = page.split("Bürgerbüro Nord")[-1]
    assert "Samstag 09:00–11:30 Uhr" in nord
    assert "Sonntag" not in nord
