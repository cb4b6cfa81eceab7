"""What the fuzzers need beyond the demo data: a booking (with its mailed links), and real ids for path parts."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.timeutil import BERLIN, utcnow

LINK_RE = re.compile(r"https?://[^/\s]+(/[^\s\"'<>)]*)")


def book_appointment(client, locations: Collection[int] | None = None) -> dict[str, Any] | None:
    """Book the first free slot of the first location (of `locations`, if given) through the public API; its
    confirm link goes by mail."""
    services = client.get("/api/v1/appointments/services").get_json()
    for service in services:
        for location in service["locations"]:
            if locations is not None and location not in locations:
                continue
            today = utcnow().date()
            slots = client.get(
                "/api/v1/appointments/slots",
                query_string={
                    "service": service["id"],
                    "location": location,
                    "from": (today + timedelta(days=1)).isoformat(),
                    "to": (today + timedelta(days=13)).isoformat(),
                },
            ).get_json()
            if not isinstance(slots, dict) and not isinstance(slots, list):
                continue
            free = slots.get("slots", []) if isinstance(slots, dict) else slots
            if not free:
                continue
            response = client.post(
                "/api/v1/appointments/bookings",
                json={
                    "services": [{"id": service["id"], "quantity": 1}],
                    "location": location,
                    "start": free[0]["start"],
                    "name": "Erika Fuzz",
                    "email": "erika.fuzz@example.org",
                },
            )
            assert response.status_code == 201, response.get_data(as_text=True)
            return response.get_json()
    return None


def mailed_paths() -> list[str]:
    """The site paths of every link in the outbox (confirm, manage, invitation, reset links)."""
    from portal.mail.models import OutboxMessage

    paths: list[str] = []
    for message in db.session.scalars(sa.select(OutboxMessage)):
        for match in LINK_RE.finditer(message.body_text or ""):
            if match.group(1) not in paths:
                paths.append(match.group(1))
    return paths


def real_ids() -> dict[str, list[Any]]:
    """Values of path parameters that name existing rows, by parameter name."""
    from appointments.models import Booking
    from participation.models import Comment, Consultation, Proposal
    from payments.models import Payment

    def first(column: Any, n: int = 3) -> list[Any]:
        return list(db.session.scalars(sa.select(column).limit(n)))

    return {
        "consultation_id": first(Consultation.id),
        "proposal_id": first(Proposal.id),
        "comment_id": first(Comment.id),
        "public_id": first(Payment.public_id),
        "reference": first(Booking.reference),
    }


def rows_for_unreached_forms(demo_domain: str, client) -> dict[str | None, list[str]]:
    """Rows the demo data lacks, so the crawl reaches the forms acting on them (issue 11: shrink UNREACHED).

    Made through the services where one exists (audited like any other change), or the public API with `client`.
    Returns the pages the crawl should start from, by person, besides the site's own start pages: those that only
    a mail, a redirect or another service links to, or that the crawl's page budget would not get to. Call inside
    an app context.
    """
    from appointments.services.feeds import create_feed, feed_locations
    from portal.accounts.models import User
    from portal.actors import Actor
    from portal.mail.models import OutboxMessage

    clerks = db.session.scalars(sa.select(User).where(User.email.in_([f"sachbearbeitung@{demo_domain}"]))).all()
    for clerk in clerks:
        actor = Actor.for_user(clerk)
        locations = feed_locations(actor)
        if locations:  # appointments_feed.revoke is shown for an active calendar feed
            create_feed(actor, locations[0].id, show_names=False)
    # A closure over the day of a booking ahead at a location the department admin configures:
    # appointments_admin.closure_delete is shown for any closure, closure_bookings_cancel for one with bookings in
    # its days. The fuzz booking's office depends on the day the tests run, so book one at the admin's own.
    from appointments.services.config import ClosureData, add_closure, configurable_locations

    admin = db.session.scalars(sa.select(User).where(User.email == f"amtsadmin@{demo_domain}")).first()
    if admin is not None:
        actor = Actor.for_user(admin)
        booked = book_appointment(client, {location.id for location, _settings in configurable_locations(actor)})
        if booked is not None:
            day = datetime.fromisoformat(booked["start"]).astimezone(BERLIN).date()
            add_closure(actor, booked["location"], ClosureData(first_day=day, reason="Fuzz"))
    from tests.fuzz.seed_dataaccess import consent_page, dataaccess_rows
    from tests.fuzz.seed_mail import mailed_rows
    from tests.fuzz.seed_participation import answered_proposal, participation_rows
    from tests.fuzz.seed_payments import payment_rows
    from tests.fuzz.seed_people import people_rows
    from tests.fuzz.seed_permits import permit_cases

    permit_cases(demo_domain)
    participation_rows(demo_domain)
    starts: dict[str | None, list[str]] = {}
    for found in (people_rows(demo_domain), payment_rows(demo_domain), consent_page(demo_domain), answered_proposal()):
        for person, pages in found.items():
            starts.setdefault(person, []).extend(pages)
    dataaccess_rows(demo_domain)
    mailed_rows(demo_domain)
    # mail_admin.requeue is shown for a message the delivery gave up on. Only the delivery sets "failed" (after
    # MAIL_MAX_ATTEMPTS); the seed marks one message so, as an exhausted relay would have left it.
    # The newest: the admin's list shows the latest messages first, and the seed above queued many.
    message = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)).first()
    if message is not None:
        message.status = "failed"
        db.session.commit()
    return starts
