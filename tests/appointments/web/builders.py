"""Builders for the booking pages' tests: two locations, two services, and a client walking the wizard."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask.testing import FlaskClient

from portal.departments.models import CatalogueService, Location
from portal.timeutil import BERLIN, utcnow
from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
from tests.builders import csrf_from, make_department


@dataclass
class Offers:
    id_card: CatalogueService
    passport: CatalogueService
    mitte: Location  # both services, one counter (so one booking fills a slot)
    nord: Location  # the ID card only


def make_offers(**mitte_settings: Any) -> Offers:
    department = make_department()
    id_card = make_catalogue_service(department, "Personalausweis beantragen")
    passport = make_catalogue_service(department, "Reisepass beantragen")
    mitte = make_bookable_location(department=department, name="Bürgerbüro Mitte", counters=1, **mitte_settings)
    nord = make_bookable_location(department=department, name="Bürgerbüro Nord", counters=2)
    offer(mitte, id_card, minutes=15)
    offer(mitte, passport, minutes=20, max_quantity=3)
    offer(nord, id_card, minutes=10)
    return Offers(id_card, passport, mitte, nord)


def open_tuesday(weeks_ahead: int = 1) -> date:
    """A Tuesday at least a week ahead that is no Saxon public holiday."""
    from appointments.slots import is_public_holiday

    today = utcnow().astimezone(BERLIN).date()
    day = today + timedelta(days=7 * weeks_ahead + (1 - today.weekday()) % 7)
    while is_public_holiday(day):
        day += timedelta(days=7)
    return day


def berlin(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


def start_value(start: datetime) -> str:
    """The value of a time's radio button (ISO 8601 with the Berlin offset)."""
    return start.astimezone(BERLIN).isoformat()


class Wizard:
    """Walks the booking pages as a browser without JavaScript would: GET the step, POST its form."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def post(self, url: str, data: dict[str, Any], **kwargs: Any):
        page = self.client.get(url)
        return self.client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data}, **kwargs)

    def services(self, *chosen: tuple[CatalogueService, int]):
        data: dict[str, Any] = {}
        for service, quantity in chosen:
            data[f"service_{service.id}"] = "y"
            data[f"quantity_{service.id}"] = str(quantity)
        return self.post("/termine/buchen", data)

    def location(self, location: Location):
        return self.post("/termine/buchen/standort", {"location": str(location.id)})

    def time(self, start: datetime):
        day = start.astimezone(BERLIN).date().isoformat()
        return self.post(f"/termine/buchen/termin?ab={day}&tag={day}", {"start": start_value(start)})

    def details(self, name: str = "Erika Mustermann", email: str = "erika@example.org", phone: str = ""):
        return self.post("/termine/buchen/angaben", {"name": name, "email": email, "phone": phone})

    def book(self, **data: Any):
        return self.post("/termine/buchen/pruefen", data)

    def all_steps(self, offers: Offers, start: datetime, **details: Any):
        self.services((offers.id_card, 1), (offers.passport, 2))
        self.location(offers.mitte)
        self.time(start)
        self.details(**details)
        return self.book()


def text(response) -> str:
    """The page's text without tags and with collapsed white space, as a person would read it (a screen reader:
    the short forms marked aria-hidden, e.g. the calendar's on a phone, are left out)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<span [^>]*aria-hidden="true"[^>]*>[^<]*</span>', "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
