"""Mails the demo data does not send, whose links lead to forms (issue 11: shrink UNREACHED): a password reset, a
new registration's verification, a reminder with its attend and release links, a waiting-list entry with its
leave link, and another one offered a free time by the waiting-list job (its accept and decline buttons). The crawl
visits every link in the outbox signed out (seed.mailed_paths); each mail is sent by the service that sends it in
production."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from portal.actors import ANONYMOUS
from portal.extensions import db
from portal.timeutil import BERLIN, utcnow


def mailed_rows(demo_domain: str) -> None:
    """Call inside an app context, after the demo data is loaded and the other seeds ran."""
    with current_app.test_request_context("/"):  # the mailed links are made with url_for
        _mailed_rows(demo_domain)


def _mailed_rows(demo_domain: str) -> None:
    from portal.accounts.services import passwords, registration

    passwords.request_reset(f"buerger@{demo_domain}")
    registration.register("Nora Neu", "nora.neu@example.org", "ein langes Passwort 2026")
    _reminder()
    offer = _first_offer()
    if offer is not None:
        _join(offer, "Otto Angebot", "otto.angebot@example.org")
        # The job offers every waiting entry the earliest free time: Otto gets an offer, Wanda (below) waits on.
        from appointments.services import waitlist_offers

        waitlist_offers.run()
        _join(offer, "Wanda Warteliste", "wanda.warteliste@example.org")


def _reminder() -> None:
    """The reminders job, run now: the demo's desk day has appointments later today, within the reminder hours."""
    from appointments.services import reminders

    reminders.send_reminders()


def _first_offer():
    """The first bookable service at an active location."""
    from appointments.models import LocationSettings, OfferedService

    return db.session.scalars(
        sa.select(OfferedService)
        .join(LocationSettings, LocationSettings.location_id == OfferedService.location_id)
        .where(OfferedService.active.is_(True), LocationSettings.active.is_(True))
        .order_by(OfferedService.id)
        .limit(1)
    ).first()


def _join(offer, name: str, email: str) -> None:
    """A person on the waiting list of `offer`; the confirmation mail has the leave link."""
    from appointments.services import waitlist

    today = utcnow().astimezone(BERLIN).date()
    waitlist.join_waitlist(
        ANONYMOUS,
        items=[(offer.catalogue_service_id, 1)],
        location_ids=[offer.location_id],
        first_day=today + timedelta(days=1),
        last_day=today + timedelta(days=20),
        name=name,
        email=email,
    )
