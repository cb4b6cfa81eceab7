"""Builders for waitlist tests: people joining the list, and the offer link out of their mail."""

from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa

from appointments.models import Booking, WaitlistEntry
from appointments.services import waitlist
from portal.actors import ANONYMOUS
from portal.extensions import db
from tests.appointments.booking.builders import Office, mails_to

OFFER_LINK = re.compile(r"/termine/angebot/(T-\d{4}-\d+)/([A-Za-z0-9_-]+)")
ENTRY_LINK = re.compile(r"/termine/warteliste/(\d+)/([A-Za-z0-9_-]+)")


def join(
    office: Office, email: str, first: date, last: date | None = None, *, location_ids: list[int] | None = None
) -> waitlist.Joined:
    return waitlist.join_waitlist(
        ANONYMOUS,
        items=[(office.service.id, 1)],
        location_ids=location_ids or [office.location.id],
        first_day=first,
        last_day=last or first + timedelta(days=7),
        name=email.split("@")[0].title(),
        email=email,
    )


def offer_link(email: str) -> tuple[str, str]:
    """(reference, token) from the latest offer mail to `email`."""
    offers = [m for m in mails_to(email) if OFFER_LINK.search(m.body_text)]
    assert offers, f"no offer mail to {email}"
    match = OFFER_LINK.search(offers[-1].body_text)
    assert match is not None
    return match.group(1), match.group(2)


def entry(entry_id: int) -> WaitlistEntry:
    found = db.session.get(WaitlistEntry, entry_id, populate_existing=True)
    assert found is not None
    return found


def booking(reference: str) -> Booking:
    return db.session.execute(
        sa.select(Booking).where(Booking.reference == reference).execution_options(populate_existing=True)
    ).scalar_one()
