"""Booked: the confirmation page and its calendar file, for the booking just made in this browser session.

The manage token is kept in the session only encrypted (the session cookie is signed, not secret): the
confirmation page offers the calendar file, but the token must not leak to whoever holds the cookie, because
it also confirms a booking that needs confirmation by mail.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import abort, current_app, make_response, render_template, session, url_for

from appointments.errors import NotFound
from appointments.ics import booking_calendar
from appointments.services import booking as booking_service
from appointments.services import fee_payments, fees, qr
from appointments.views import booking_details, bp, ics_response
from portal import access

DONE = "termin_gebucht"


def _fernet() -> Fernet:
    key = hashlib.sha256(b"appointments-done:" + str(current_app.config["SECRET_KEY"]).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def _done_booking():
    """The booking just made in this browser session, with its manage token; 404 when there is none."""
    done = session.get(DONE)
    if not done:
        abort(404)
    try:
        token = _fernet().decrypt(done["sealed"].encode()).decode()
        return booking_service.find_booking(done["reference"], token), token
    except (InvalidToken, NotFound, KeyError):
        abort(404)


@bp.get("/buchen/gebucht")
@access.public
def book_done():
    found, token = _done_booking()
    needs_confirmation = found.status == "reserved"
    fee = fees.booking_fee(found)
    response = make_response(
        render_template(
            "appointments/book_done.html",
            booking=found,
            details=booking_details(found, facts=True),
            fee=fee,
            # Paying waits for the confirmation by mail: a booking not confirmed in time is released.
            pay_url=None if needs_confirmation else fee_payments.payment_path(fee),
            needs_confirmation=needs_confirmation,
            check_in_code=qr.qr_svg(found.reference or ""),
            # The manage link carries the token that also confirms; it is shown only where no confirmation is due.
            manage_url=None if needs_confirmation else url_for(".manage", reference=found.reference, token=token),
        )
    )
    # The page shows the manage link with its token: it must not stay in a shared computer's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/buchen/gebucht/termin.ics")
@access.public
def book_done_ics():
    found, _token = _done_booking()
    return ics_response(booking_calendar(found, "REQUEST"), found.reference)
