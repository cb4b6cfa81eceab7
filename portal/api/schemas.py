"""Schemas shared by the API: the problem shape and the audit feed."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma

from portal.timeutil import as_utc


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every API error is answered (media type application/problem+json)."""

    type = ma.fields.String(metadata={"description": "A URI naming the kind of problem"})
    title = ma.fields.String(metadata={"description": "A short summary of the kind of problem"})
    status = ma.fields.Integer(metadata={"description": "The HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong in this occurrence"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Validation messages per field: {field: [message, ...]}"},
    )


class AuditEventsQuerySchema(ma.Schema):
    after_seq = ma.fields.Integer(
        load_default=0,
        validate=ma.validate.Range(min=0),
        metadata={"description": "Only events after this sequence number (the last one you have)", "format": "int64"},
    )
    limit = ma.fields.Integer(
        load_default=100,
        validate=ma.validate.Range(min=1, max=500),
        metadata={"description": "At most this many events (1-500)"},
    )


class _JsonText(ma.fields.Field):
    """The details column holds canonical JSON text; clients get it as an object."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return json.loads(value) if value else {}


class UTCDateTime(ma.fields.DateTime):
    """SQLite hands back naive datetimes; the API always says UTC explicitly."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return super()._serialize(as_utc(value) if value is not None else None, attr, obj, **kwargs)


class AuditEventSchema(ma.Schema):
    seq = ma.fields.Integer()
    occurred_at = UTCDateTime(format="iso")
    actor_type = ma.fields.String()
    actor_id = ma.fields.String(allow_none=True)
    on_behalf_of = ma.fields.String(allow_none=True)
    action = ma.fields.String()
    target_type = ma.fields.String(allow_none=True)
    target_id = ma.fields.String(allow_none=True)
    subject_user_id = ma.fields.Integer(allow_none=True)
    details = _JsonText(metadata={"description": "Action-specific details (secrets masked)"})
    request_id = ma.fields.String(allow_none=True)
    ip = ma.fields.String(allow_none=True)
    outcome = ma.fields.String()
    prev_hash = ma.fields.String(metadata={"description": "Hash of the previous event (the chain)"})
    hash = ma.fields.String(metadata={"description": "SHA-256 over this event and prev_hash"})


class AuditEventPageSchema(ma.Schema):
    events = ma.fields.List(ma.fields.Nested(AuditEventSchema))
    next_after_seq = ma.fields.Integer(metadata={"description": "Pass as after_seq to fetch the next page"})
    has_more = ma.fields.Boolean(metadata={"description": "Whether more events follow right away"})
