"""Extending a permit in force: one click makes a new draft linked to it (`extends_id`), prefilled with the
permit's data and a period starting the day after the permit ends; the applicant sets the new end, adds the
documents the use type requires and submits it like any application. One open extension per permit: asking
again returns the draft already made."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from permits import rules
from permits.errors import PermitError, PermitNotFound
from permits.models import PermitApplication, PermitState
from permits.services.applications import _case, _subject
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.transaction import transaction

S = PermitState
COPIED = (
    "organisation_id",
    "department_id",
    "applicant_name",
    "applicant_email",
    "applicant_phone",
    "applicant_address",
    "responsible_name",
    "responsible_phone",
    "use_type_id",
    "description",
    "street",
    "house_number",
    "zone",
    "location_geojson",
    "length_cm",
    "width_cm",
    "area_dm2",
    "carriageway_affected",
    "footway_affected",
    "traffic_order_requested",
    "exemption_reason_id",
    "exemption_note",
)


def open_extension(application: PermitApplication) -> PermitApplication | None:
    return db.session.scalar(
        sa.select(PermitApplication).where(
            PermitApplication.extends_id == application.id, PermitApplication.state == S.DRAFT.value
        )
    )


def request_extension(actor: Actor, application: PermitApplication) -> PermitApplication:
    """A draft extending `application` (in force), owned like it; the open one if there is one already."""
    if not rules.is_owner(actor, application):
        raise PermitNotFound()
    if application.state not in rules.IN_FORCE:
        raise PermitError("state", _l("Verlängern lässt sich nur eine geltende Erlaubnis."), "not_in_force", 409)
    existing = open_extension(application)
    if existing is not None:
        return existing
    assert actor.user is not None
    last_day = application.valid_until or application.ends_on
    with transaction():
        # A double click sends two requests: the permit's row lock makes the second wait and find the first's draft.
        db.session.execute(
            sa.select(PermitApplication.id).where(PermitApplication.id == application.id).with_for_update()
        )
        existing = open_extension(application)
        if existing is not None:
            return existing
        draft = PermitApplication(
            public_id=secrets.token_hex(16),
            user_id=actor.user.id,
            extends_id=application.id,
            starts_on=last_day + timedelta(days=1) if last_day else None,
            **{name: getattr(application, name) for name in COPIED},
        )
        db.session.add(draft)
        audit.record(
            "permits.extension_started",
            actor,
            target=draft,
            subject_user_id=_subject(draft),
            case=_case(draft),
            extends=application.reference,
            use_type=application.use_type.code if application.use_type else None,
        )
    return draft
