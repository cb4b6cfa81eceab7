"""JSON API: services, locations and free times (public, rate-limited per location)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any

import marshmallow as ma
from flask import Response, current_app, has_request_context, request
from flask_smorest import abort

from appointments.errors import BookingError
from appointments.services import availability, catalogue
from portal import access
from portal.api.blueprint import Blueprint
from portal.departments.texts import FEE_KINDS
from portal.extensions import limiter
from portal.inputs import as_id
from portal.reads_alone import reads_alone
from portal.timeutil import BERLIN

MAX_RANGE_DAYS = 31

blp = Blueprint(
    "appointments_catalogue_api",
    __name__,
    url_prefix="/api/v1/appointments",
    description="Services, locations and free times (public)",
)


def _search_limit() -> str:
    return catalogue.search_rate_limit(as_id(request.args.get("location")))  # the value the schema will load


class ServiceDurationSchema(ma.Schema):
    location = ma.fields.Integer(metadata={"description": "Location id"})
    minutes = ma.fields.Integer(metadata={"description": "Duration of one unit of the service there"})
    max_quantity = ma.fields.Integer()


class ServiceFeeSchema(ma.Schema):
    kind = ma.fields.String(
        metadata={"enum": list(FEE_KINDS), "description": "unknown (not stated), free, fixed or varies (by case)"}
    )
    cents = ma.fields.Integer(allow_none=True, metadata={"description": "The amount in euro cents, when fixed"})
    text = ma.fields.String(allow_none=True, metadata={"description": "The fee in words, in the request's language"})


class BookableServiceSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String(metadata={"description": "In the request's language (Accept-Language), else German"})
    description = ma.fields.String()
    department = ma.fields.String()
    bring = ma.fields.List(ma.fields.String(), metadata={"description": "What to bring to the appointment"})
    fee = ma.fields.Nested(ServiceFeeSchema, metadata={"description": "What the service costs (information only)"})
    locations = ma.fields.List(ma.fields.Integer(), metadata={"description": "Ids of the locations offering it"})
    durations = ma.fields.List(ma.fields.Nested(ServiceDurationSchema))


class LocationSearchSchema(ma.Schema):
    service = ma.fields.Integer(required=True, metadata={"description": "Catalogue service id"})


class BookableLocationSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    address = ma.fields.String()
    street = ma.fields.String()
    postcode = ma.fields.String()
    city = ma.fields.String()
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    duration = ma.fields.Integer(attribute="duration_minutes", metadata={"description": "Minutes for one unit"})
    max_quantity = ma.fields.Integer()
    notes = ma.fields.String(metadata={"description": "For visitors: entrance, accessibility, parking"})


def _parse_services(value: str) -> list[tuple[int, int]]:
    items = []
    for part in value.split(","):
        service, _sep, quantity = part.strip().partition(":")
        try:
            items.append((int(service), int(quantity) if quantity else 1))
        except ValueError:
            raise ma.ValidationError("Erwartet werden Paare ID:ANZAHL, durch Kommas getrennt, z. B. 1:2,3:1.") from None
    return items


class SlotSearchSchema(ma.Schema):
    service = ma.fields.List(
        ma.fields.Integer(),
        metadata={"description": "Catalogue service id; repeat it to combine services (service=1&service=2)"},
    )
    services = ma.fields.String(
        metadata={
            "description": "Alternative to `service`: ID:QUANTITY pairs separated by commas, e.g. `1:2,3:1` "
            "(two passports and one registration certificate in one visit)"
        }
    )
    quantity = ma.fields.Integer(
        load_default=1,
        validate=ma.validate.Range(1, 20),
        metadata={"description": "How many of each `service` (e.g. 2 for two passports); default 1"},
    )
    location = ma.fields.Integer(required=True, metadata={"description": "Location id"})
    first_day = ma.fields.Date(data_key="from", required=True, metadata={"description": "First day, YYYY-MM-DD"})
    last_day = ma.fields.Date(
        data_key="to", required=True, metadata={"description": f"Last day (inclusive), at most {MAX_RANGE_DAYS} days"}
    )

    @ma.validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if not data.get("service") and not data.get("services"):
            errors["service"] = ["Bitte `service` (wiederholbar) oder `services` angeben."]
        if data.get("service") and data.get("services"):
            errors["services"] = ["Bitte entweder `service` oder `services` angeben, nicht beides."]
        if data.get("services"):
            try:
                _parse_services(data["services"])
            except ma.ValidationError as error:
                errors["services"] = error.messages if isinstance(error.messages, list) else [str(error)]
        first, last = data.get("first_day"), data.get("last_day")
        if first and last:
            if first > last:
                errors["to"] = ["`to` darf nicht vor `from` liegen."]
            elif (last - first) >= timedelta(days=MAX_RANGE_DAYS):
                errors["to"] = [f"Höchstens {MAX_RANGE_DAYS} Tage je Anfrage."]
        if errors:
            raise ma.ValidationError(errors)

    @ma.post_load
    def _items(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("services"):
            data["items"], data["field"] = _parse_services(data["services"]), "services"
        else:
            data["items"], data["field"] = [(sid, data["quantity"]) for sid in data["service"]], "service"
        return data


class _RememberedSlotSearchSchema(SlotSearchSchema):
    """SlotSearchSchema, with what it loaded kept per query string: a search is mostly the same few URLs again
    (a month from tomorrow, per service and location), and loading them cost more CPU than answering from the
    cache. Loading depends on nothing but the query string, so a kept result is the one loading would give;
    errors are never kept. Each caller gets its own copy (the view may add to it)."""

    KEPT = 512

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: dict[tuple[bytes, Any], dict[str, Any]] = {}

    def load(self, data: Any, *, many: bool | None = None, partial: Any = None, unknown: Any = None) -> Any:
        if many or partial or not has_request_context():
            return super().load(data, many=many, partial=partial, unknown=unknown)
        key = (request.query_string, unknown)
        kept = self._kept.get(key)
        if kept is None:
            kept = super().load(data, unknown=unknown)
            if len(self._kept) >= self.KEPT:
                self._kept.clear()  # simpler than an LRU, and a full set of distinct searches is rare
            self._kept[key] = kept
        return dict(kept)


class FreeSlotSchema(ma.Schema):
    start = ma.fields.String(metadata={"format": "date-time", "description": "ISO 8601 with the Berlin offset"})
    seats_left = ma.fields.Integer()


class _ReadyList(ma.fields.List):
    """Documented as a list of its items, but dumped as is: the view builds plain JSON-ready dicts, and
    serialising hundreds of slots field by field would cost more than finding them."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class FreeSlotListSchema(ma.Schema):
    location = ma.fields.Integer()
    duration = ma.fields.Integer(metadata={"description": "Length of the visit in minutes"})
    first_day = ma.fields.Date(data_key="from")
    last_day = ma.fields.Date(data_key="to")
    slots = _ReadyList(ma.fields.Nested(FreeSlotSchema))


_MINUTES = [f"{minute:02d}" for minute in range(60)]


def berlin_iso(starts: list[datetime]) -> list[str]:
    """ISO 8601 with the Berlin offset, as `start.astimezone(BERLIN).isoformat()` gives it, but converting
    only once per hour: a month has about 800 starts and about 200 distinct hours. Berlin's offsets are whole
    hours, so within one UTC hour the local minute is the UTC minute; anything else takes the long way."""
    cache: dict[tuple[int, int, int, int], tuple[str, str] | None] = {}
    found = []
    for start in starts:
        hour = (start.year, start.month, start.day, start.hour)
        if hour not in cache:
            local = start.astimezone(BERLIN)
            iso = local.isoformat(timespec="seconds")
            cache[hour] = (iso[:14], iso[16:]) if local.minute == start.minute else None
        parts = cache[hour]
        if parts is None or start.second or start.microsecond:
            found.append(start.astimezone(BERLIN).isoformat())
        else:
            found.append(parts[0] + _MINUTES[start.minute] + parts[1])
    return found


def _unprocessable(field: str, message: str) -> None:
    abort(422, messages={"query": {field: [message]}})


@blp.route("/services")
@blp.response(200, BookableServiceSchema(many=True))
@access.public
@reads_alone
@limiter.limit(_search_limit)
def list_services():
    """Services that can be booked, with the locations offering them and their durations there."""
    return [
        {
            "id": service.id,
            "name": service.name,
            "description": service.description,
            "department": service.department,
            "bring": service.bring,
            "fee": {"kind": service.fee_kind, "cents": service.fee_cents, "text": service.fee},
            "locations": service.locations,
            "durations": [
                {"location": o.location_id, "minutes": o.duration_minutes, "max_quantity": o.max_quantity}
                for o in service.offered_at
            ],
        }
        for service in catalogue.offered_services()
    ]


@blp.route("/locations")
@blp.arguments(LocationSearchSchema, location="query")
@blp.response(200, BookableLocationSchema(many=True))
@access.public
@reads_alone
@limiter.limit(_search_limit)
def list_locations(query: dict[str, Any]):
    """Locations offering a service, with the service's duration there (422 for an unknown service)."""
    try:
        return catalogue.locations_offering(query["service"])
    except BookingError as error:
        _unprocessable("service", error.message)


def _slots_answer(entry: availability.CachedSearch, query: dict[str, Any]) -> tuple[bytes, str]:
    """The JSON body and its ETag, made once per cached answer: repeated searches skip serialising too."""
    made = entry.extra.get("json")
    if made is None:
        made = entry.extra["json"] = _serialise(entry, query)
    return made


def _serialise(entry: availability.CachedSearch, query: dict[str, Any]) -> tuple[bytes, str]:
    result = entry.result
    if current_app.debug:
        data = FreeSlotListSchema().dump(
            {
                "location": query["location"],
                "duration": result.duration_minutes,
                "first_day": query["first_day"],
                "last_day": query["last_day"],
                "slots": [
                    {"start": start, "seats_left": slot.seats_left}
                    for start, slot in zip(berlin_iso([slot.start for slot in result.slots]), result.slots, strict=True)
                ],
            }
        )
        body = current_app.json.dumps(data).encode() + b"\n"
    else:
        body = _compact_body(entry, query)
    # The version names the state of the location; the digest also covers what time alone changed.
    etag = f"v{entry.version}-{hashlib.blake2b(body, digest_size=8).hexdigest()}"
    return body, etag


def _compact_body(entry: availability.CachedSearch, query: dict[str, Any]) -> bytes:
    """What FreeSlotListSchema and the app's JSON (sorted keys, compact) give, written directly: the formats
    are fixed (ISO times, integers), and building a dict per slot cost more than finding the slots."""
    result = entry.result
    starts = berlin_iso([slot.start for slot in result.slots])
    pairs = zip(starts, result.slots, strict=True)
    slots = ",".join(f'{{"seats_left":{slot.seats_left},"start":"{start}"}}' for start, slot in pairs)
    return (
        f'{{"duration":{int(result.duration_minutes)},"from":"{query["first_day"].isoformat()}",'
        f'"location":{int(query["location"])},"slots":[{slots}],"to":"{query["last_day"].isoformat()}"}}\n'
    ).encode()


@blp.route("/slots")
@blp.arguments(_RememberedSlotSearchSchema, location="query")
@blp.response(200, FreeSlotListSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(304, description="Not modified: the `If-None-Match` ETag is still current")
@access.public
@reads_alone
@limiter.limit(_search_limit)
def list_slots(query: dict[str, Any]):
    """Free start times at a location, with the seats left at each.

    Combine services for one visit with `service=1&service=2` (with `quantity` applying to each) or
    `services=1:2,3:1` (ID:QUANTITY). Times are ISO 8601 with the Europe/Berlin offset. Days in the past
    or beyond the booking horizon have no free times. Errors: 422 with per-field messages for an unknown
    service or location, `to` before `from`, or more than 31 days.

    The answer carries an ETag; send it back in `If-None-Match` to get 304 while nothing has changed.
    """
    first: date = query["first_day"]
    last: date = query["last_day"]
    try:
        entry = availability.search_cached(
            query["location"], query["items"], first, last, serialise=lambda made: _serialise(made, query)
        )
    except BookingError as error:
        _unprocessable(query["field"] if error.field == "services" else error.field, error.message)
    body, etag = _slots_answer(entry, query)
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    # Free seats change any moment: caches may keep the answer but must ask again (cheaply, by ETag).
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)
