"""Builders for fee tests: the demo's fees in the payments catalogue, linked to bookable services, and a
client that books, pays in the sandbox and cancels as a citizen would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from appointments.models import Booking, BookingFee, ServiceFee
from payments.models import Payment
from portal.departments.models import CatalogueService
from portal.extensions import db
from tests.appointments.builders import make_catalogue_service, offer
from tests.appointments.web.builders import Offers, Wizard, make_offers
from tests.builders import csrf_from
from tests.payments.builders import make_fee


@dataclass
class FeeOffers(Offers):
    registration: CatalogueService  # offered at Mitte, no fee


def link_fee(service: CatalogueService, code: str, refund_hours_before: int | None = 24) -> ServiceFee:
    link = ServiceFee(catalogue_service_id=service.id, fee_code=code, refund_hours_before=refund_hours_before)
    db.session.add(link)
    db.session.commit()
    return link


def make_fee_offers(refund_hours_before: int | None = 24, **mitte_settings: Any) -> FeeOffers:
    """make_offers, with Personalausweis 37,00 € and Reisepass 70,00 € (the demo's fees) and a free service."""
    offers = make_offers(**mitte_settings)
    department_id = db.session.get(CatalogueService, offers.id_card.id).department_id
    from portal.departments.models import Department

    registration = make_catalogue_service(db.session.get(Department, department_id), "Meldebescheinigung")
    offer(offers.mitte, registration, minutes=10)
    make_fee("PERSONALAUSWEIS", 3700)
    make_fee("REISEPASS", 7000)
    link_fee(offers.id_card, "PERSONALAUSWEIS", refund_hours_before)
    link_fee(offers.passport, "REISEPASS", refund_hours_before)
    return FeeOffers(offers.id_card, offers.passport, offers.mitte, offers.nord, registration)


def to_check_page(
    client: FlaskClient, offers: Offers, start: datetime, *chosen: tuple[CatalogueService, int], **details: Any
):
    wizard = Wizard(client)
    wizard.services(*(chosen or ((offers.id_card, 1), (offers.passport, 1))))
    wizard.location(offers.mitte)
    wizard.time(start)
    wizard.details(**details)
    return client.get("/termine/buchen/pruefen")


def book(
    client: FlaskClient,
    offers: Offers,
    start: datetime,
    *chosen: tuple[CatalogueService, int],
    payment: str | None = "online",
    **details: Any,
):
    """All steps; returns (the booking, the done page's HTML)."""
    to_check_page(client, offers, start, *chosen, **details)
    booked = Wizard(client).book(**({"payment": payment} if payment else {}))
    assert booked.status_code == 302, booked.get_data(as_text=True)[:2000]
    done = client.get(booked.headers["Location"]).get_data(as_text=True)
    reference = re.search(r"T-\d{4}-\d{6}", done)
    assert reference is not None
    booking = db.session.scalars(sa.select(Booking).where(Booking.reference == reference.group(0))).one()
    return booking, done


def manage_path(done_html: str) -> str:
    found = re.search(r'href="(/termine/verwalten/[^"/]+/[^"/]+)"', done_html)
    assert found is not None, "the done page shows no manage link"
    return found.group(1)


def payments_of(booking: Booking) -> list[Payment]:
    return list(
        db.session.scalars(
            sa.select(Payment).where(Payment.service == "appointments", Payment.case_reference == booking.reference)
        )
    )


def fee_of(booking: Booking) -> BookingFee | None:
    return db.session.get(BookingFee, booking.id, populate_existing=True)


def pay_in_sandbox(client: FlaskClient, public_id: str, choice: str = "succeeded"):
    """The payer's way: status page → "Jetzt online bezahlen" → the sandbox's page → the tester's choice."""
    page = client.get(f"/bezahlen/{public_id}")
    assert page.status_code == 200
    started = client.post(f"/bezahlen/{public_id}/bezahlen", data={"csrf_token": csrf_from(page.text)})
    assert started.status_code == 303, started.text[:500]
    sandbox = client.get(started.headers["Location"])
    done = client.post(started.headers["Location"], data={"csrf_token": csrf_from(sandbox.text), "ergebnis": choice})
    assert done.status_code == 303
    return client.get(done.headers["Location"])
