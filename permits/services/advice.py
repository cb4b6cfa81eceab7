"""The advisory appointment of a special-use permit: booked through the appointments service for the case, shown
on the applicant's and the clerk's case pages.

The booking carries the key `permit:<public id>` (appointments/services/case_links.py), so a draft, which has no
reference yet, can be linked too, and the link survives the submission.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Flask, current_app, url_for
from flask_babel import gettext as _

from appointments.services import case_links, catalogue
from permits import rules
from permits.models import PermitApplication, PermitState
from portal.actors import Actor
from portal.extensions import db

PREFIX = "permit"
# No advice is offered once the case is over (withdrawn, refused, ended, revoked).
CLOSED = frozenset({PermitState.WITHDRAWN, PermitState.REFUSED, PermitState.ENDED, PermitState.REVOKED})


@dataclass
class Advice:
    book_url: str | None  # None: the advice service is not bookable, or the case is over
    bookings: list[case_links.LinkedBooking] = field(default_factory=list)


def register(app: Flask) -> None:
    case_links.register_resolver(app, PREFIX, _resolve)


def case_key(application: PermitApplication) -> str:
    return f"{PREFIX}:{application.public_id}"


def _resolve(actor: Actor, public_id: str) -> case_links.CaseLink | None:
    """The applicant's own open case, as the booking pages name and link it; anything else is None."""
    application = db.session.scalar(sa.select(PermitApplication).where(PermitApplication.public_id == public_id))
    if application is None or application.state in CLOSED or not rules.is_owner(actor, application):
        return None
    label = (
        _("Antrag auf Sondernutzung %(reference)s", reference=application.reference)
        if application.reference
        else _("Ihr Antrag auf Sondernutzung (Entwurf)")
    )
    return case_links.CaseLink(case_key(application), label, url_for("permits.case", public_id=public_id))


def for_applicant(application: PermitApplication) -> Advice:
    """The booking link (with the case) and the appointments already booked for it; the caller checked the
    applicant."""
    service_id = catalogue.bookable_service_named(current_app.config["PERMITS_ADVICE_SERVICE"])
    book_url = (
        url_for("appointments.book_services", leistung=service_id, fall=case_key(application))
        if service_id is not None and application.state not in CLOSED
        else None
    )
    return Advice(book_url, case_links.bookings_for_case(case_key(application)))


def for_officer(application: PermitApplication) -> list[case_links.LinkedBooking]:
    """The appointments booked for the case, for the clerk's case page (the caller checked the officer)."""
    return case_links.bookings_for_case(case_key(application))
