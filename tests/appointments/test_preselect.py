"""A link from another service ("Bauberatung buchen": /termine/buchen?leistung=ID) ticks that service."""

from __future__ import annotations

import re

from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
from tests.builders import make_department


def _ticked(html: str, service_id: int) -> bool:
    tag = re.search(rf'<input[^>]*name="service_{service_id}"[^>]*>', html)
    assert tag is not None
    return "checked" in tag.group(0)


def test_the_linked_service_is_ticked_and_others_are_not(client, app):
    department = make_department("bauordnung", "Bauordnung")
    location = make_bookable_location(department=department, name="Technisches Rathaus")
    advice = make_catalogue_service(department, "Beratung Bauantrag")
    other = make_catalogue_service(department, "Akteneinsicht")
    offer(location, advice)
    offer(location, other)
    html = client.get(f"/termine/buchen?leistung={advice.id}").get_data(as_text=True)
    assert _ticked(html, advice.id) and not _ticked(html, other.id)
    plain = client.get("/termine/buchen").get_data(as_text=True)
    assert not _ticked(plain, advice.id)


def test_an_unknown_service_ticks_nothing(client, app):
    department = make_department("bauordnung", "Bauordnung")
    location = make_bookable_location(department=department)
    advice = make_catalogue_service(department, "Beratung Bauantrag")
    offer(location, advice)
    html = client.get("/termine/buchen?leistung=999999").get_data(as_text=True)
    assert not _ticked(html, advice.id)
