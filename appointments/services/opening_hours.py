"""A location's opening hours as citizens read them, from the structured intervals the slot engine uses."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa

from appointments.models import OpeningPeriod
from appointments.services.config import WEEKDAY_NAMES
from portal.extensions import db


def weekly_hours(location_ids: Iterable[int], on_day: date) -> dict[int, list[tuple[str, str]]]:
    """{location id: [(weekday name, "08:00–12:00, 13:00–16:00 Uhr"), ...]} for the intervals valid on `on_day`,
    Monday first; days without hours are left out (closed)."""
    ids = list(location_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(OpeningPeriod)
        .where(
            OpeningPeriod.location_id.in_(ids),
            sa.or_(OpeningPeriod.valid_from.is_(None), OpeningPeriod.valid_from <= on_day),
            sa.or_(OpeningPeriod.valid_until.is_(None), OpeningPeriod.valid_until >= on_day),
        )
        .order_by(OpeningPeriod.location_id, OpeningPeriod.weekday, OpeningPeriod.opens)
    )
    spans: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for period in rows:
        spans[period.location_id][period.weekday].append(
            f"{period.opens.strftime('%H:%M')}–{period.closes.strftime('%H:%M')}"
        )
    return {
        location_id: [(str(WEEKDAY_NAMES[day]), ", ".join(times)) for day, times in sorted(days.items())]
        for location_id, days in spans.items()
    }
