"""JSON API: booking an appointment (public, rate-limited) and managing it with the mailed token.

CSRF: portal.api._api_csrf demands a CSRF token from every API request without a bearer token, because such
a request might ride on a signed-in browser's cookies. These routes take no authority from cookies at all:
they act as the anonymous public (never the session's user), and who may see or change a booking is
decided by its manage token alone (query `token` or header X-Booking-Token), which a forging site does not
know. A forged cross-site request can therefore do nothing the forger could not do directly, and CSRF
protection would only break plain JSON clients. So, when the blueprint is registered, it takes itself out
of the API-CSRF set (flask-wtf's own check is already exempted for API blueprints by
register_api_blueprint): anonymous JSON POSTs and DELETEs work without a cookie or token.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, jsonify, request

from appointments.errors import BookingError, NotFound, SlotTaken
from appointments.models import Booking, BookingStatus
from appointments.services import antiabuse, captcha
from appointments.services import booking as bookings
from portal import access
from portal.actors import ANONYMOUS
from portal.api.blueprint import Blueprint
from portal.errors import problem
from portal.extensions import limiter
from portal.inputs import as_id, max_body
from portal.timeutil import to_berlin

blp = Blueprint("appointments_bookings_api", __name__, url_prefix="/api/v1/appointments", description="Bookings")


# A booking is a few hundred bytes; ten services and a captcha payload stay far below this.
BOOKING_BODY_LIMIT = 64 * 1024

# Refusals about the booking's state rather than the input: a conflict, not a validation error.
STATE_CODES = {"not_active", "started", "not_confirmable", "expired"}


class ServiceItemSchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "Catalogue service id"})
    quantity = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, 20))


class BookingRequestSchema(ma.Schema):
    services = ma.fields.List(
        ma.fields.Nested(ServiceItemSchema), required=True, validate=ma.validate.Length(min=1, max=10)
    )
    location = ma.fields.Integer(required=True, metadata={"description": "Location id"})
    start = ma.fields.AwareDateTime(
        required=True, metadata={"description": "ISO 8601 with offset, as listed by /slots"}
    )
    name = ma.fields.String(required=True, validate=ma.validate.Length(max=200))
    email = ma.fields.String(required=True, validate=ma.validate.Length(max=254))
    phone = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=40))
    language = ma.fields.String(load_default="de", validate=ma.validate.OneOf(["de", "en"]))
    captcha = ma.fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "ALTCHA payload (base64), required where the location asks for it"},
    )


class BookingCreatedSchema(ma.Schema):
    reference = ma.fields.String()
    status = ma.fields.String(metadata={"description": "reserved (confirm by mail until confirm_by) or confirmed"})
    start = ma.fields.String(metadata={"description": "ISO 8601, Europe/Berlin offset"})
    end = ma.fields.String()
    location = ma.fields.Integer()
    manage_token = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Authorises GET/DELETE of this booking; keep it. Null while the booking is `reserved`: "
            "the token also confirms, and confirming must prove the mailbox, so it travels only by mail then."
        },
    )
    confirm_by = ma.fields.String(allow_none=True)


class BookingItemSchema(ma.Schema):
    id = ma.fields.Integer()
    quantity = ma.fields.Integer()
    minutes = ma.fields.Integer()


class BookingSchema(ma.Schema):
    reference = ma.fields.String()
    status = ma.fields.String()
    start = ma.fields.String()
    end = ma.fields.String()
    location = ma.fields.Integer()
    services = ma.fields.List(ma.fields.Nested(BookingItemSchema))
    name = ma.fields.String()
    confirm_by = ma.fields.String(allow_none=True)
    sequence = ma.fields.Integer(metadata={"description": "iCalendar SEQUENCE, raised on every change"})


class ChallengeSchema(ma.Schema):
    algorithm = ma.fields.String()
    challenge = ma.fields.String()
    maxNumber = ma.fields.Integer()  # noqa: N815  (the ALTCHA widget's own field names)
    salt = ma.fields.String()
    signature = ma.fields.String()


class TokenQuerySchema(ma.Schema):
    token = ma.fields.String(metadata={"description": "The manage token (or send it as X-Booking-Token)"})


def _iso(value: Any) -> str | None:
    return to_berlin(value).isoformat() if value is not None else None


def _view(booking: Booking) -> dict[str, Any]:
    return {
        "reference": booking.reference,
        "status": booking.status,
        "start": _iso(booking.starts_at),
        "end": _iso(booking.ends_at),
        "location": booking.location_id,
        "services": [
            {"id": i.catalogue_service_id, "quantity": i.quantity, "minutes": i.duration_minutes} for i in booking.items
        ],
        "name": booking.name,
        "confirm_by": _iso(booking.confirm_by),
        "sequence": booking.sequence,
    }


def _booking_error(error: BookingError) -> Response:
    status = 409 if error.code in STATE_CODES else 422
    return problem(
        status, error.message, type_=f"booking-{error.code}", errors={error.field: [error.message]}, code=error.code
    )


def _not_found() -> Response:
    return problem(404, type_="booking-not-found")


def _location() -> int | None:
    """The location the schema will load from the body: the limit counts that, not the raw JSON value."""
    data = request.get_json(silent=True)
    return as_id(data.get("location")) if isinstance(data, dict) else None


def _booking_limit() -> str:
    return antiabuse.booking_rate_limit(_location())


def _limit_scope(endpoint: str) -> str:
    location = _location()
    return f"{endpoint}:{location if location is not None else '-'}"


def _token(args: dict[str, Any]) -> str | None:
    return args.get("token") or request.headers.get("X-Booking-Token")


@blp.route("/bookings", methods=["POST"])
@blp.arguments(BookingRequestSchema)
@blp.response(201, BookingCreatedSchema)
@blp.alt_response(409, description="The seat went to someone else; `nearest` lists free start times close to it")
@blp.alt_response(422, description="Bad input: `errors` maps the field to its message")
@limiter.limit(_booking_limit, scope=_limit_scope, methods=["POST"])
@max_body(BOOKING_BODY_LIMIT)
@access.public
def create_booking(data: dict[str, Any]):
    """Book an appointment (public). The seat is held at once; with status `reserved` the citizen must
    confirm by the mailed link before `confirm_by`, or it is released."""
    actor = ANONYMOUS  # never the session's user: see the module's note on CSRF
    try:
        held = bookings.hold_booking(
            actor,
            location_id=data["location"],
            items=[(item["id"], item["quantity"]) for item in data["services"]],
            start=data["start"],
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            language=data["language"],
            captcha=data["captcha"],
        )
    except BookingError as error:
        return _booking_error(error)
    except SlotTaken as taken:
        return problem(
            409,
            "Dieser Termin wurde gerade vergeben.",
            type_="slot-taken",
            start=_iso(taken.start),
            nearest=[_iso(moment) for moment in taken.nearest],
        )
    booking = held.booking
    return {
        "reference": booking.reference,
        "status": booking.status,
        "start": _iso(booking.starts_at),
        "end": _iso(booking.ends_at),
        "location": booking.location_id,
        # The manage token also confirms; handing it out here would let anyone confirm without the mailbox.
        "manage_token": None if booking.status == BookingStatus.RESERVED else held.manage_token,
        "confirm_by": _iso(booking.confirm_by),
    }, 201


@blp.route("/captcha", methods=["GET"])
@blp.response(200, ChallengeSchema)
@access.public
def captcha_challenge():
    """A fresh ALTCHA proof-of-work challenge (valid 10 minutes), for locations that ask for one: solve it and
    send the widget's base64 payload as `captcha` with the booking. Usable as the widget's `challengeurl`."""
    response = jsonify(captcha.create_challenge())
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/bookings/<reference>.ics", methods=["GET"])
@blp.arguments(TokenQuerySchema, location="query")
@blp.response(
    200, description="The iCalendar file (METHOD:REQUEST, or CANCEL once cancelled)", content_type="text/calendar"
)
@blp.alt_response(404, description="Unknown reference or wrong token")
@access.public
def booking_ics(args: dict[str, Any], reference: str):
    """The booking as an iCalendar file, authorised by the manage token."""
    from appointments.ics import booking_calendar

    try:
        booking = bookings.find_booking(reference, _token(args))
    except NotFound:
        return _not_found()
    method = "REQUEST" if booking.is_active or booking.status == BookingStatus.SERVED else "CANCEL"
    response = Response(booking_calendar(booking, method), mimetype="text/calendar")
    response.headers["Content-Type"] = f"text/calendar; charset=utf-8; method={method}"
    response.headers["Content-Disposition"] = f'attachment; filename="termin-{booking.reference}.ics"'
    return response


@blp.route("/bookings/<reference>", methods=["GET"])
@blp.arguments(TokenQuerySchema, location="query")
@blp.response(200, BookingSchema)
@blp.alt_response(404, description="Unknown reference or wrong token")
@access.public
def get_booking(args: dict[str, Any], reference: str):
    """The booking, authorised by the manage token from the mail or the 201 answer."""
    try:
        return _view(bookings.find_booking(reference, _token(args)))
    except NotFound:
        return _not_found()


@blp.route("/bookings/<reference>", methods=["DELETE"])
@blp.arguments(TokenQuerySchema, location="query")
@blp.response(200, BookingSchema)
@blp.alt_response(404, description="Unknown reference or wrong token")
@blp.alt_response(409, description="Already cancelled, or the appointment has begun")
@access.public
def cancel_booking(args: dict[str, Any], reference: str):
    """Cancel the booking (until it starts), authorised by the manage token."""
    try:
        booking = bookings.find_booking(reference, _token(args))
        return _view(bookings.cancel_booking(ANONYMOUS, booking, reason=None))
    except NotFound:
        return _not_found()
    except BookingError as error:
        return _booking_error(error)
