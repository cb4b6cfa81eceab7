"""Appointment figures per month for the city's e-government controlling, over all locations: bookings made online,
utilisation (booked seat-minutes / offered seat-minutes) and the no-show rate, as defined in
appointments.services.statistics. Anonymous counts; the caller checks who may see them. Five statements, whatever
the number of bookings or locations."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from appointments.models import Booking, BookingKind, BookingStatus, Closure, LocationSettings, OpeningPeriod
from appointments.services.statistics import ATTENDED, NOT_HELD, available_minutes
from portal.extensions import db
from portal.reporting import Month, counts_by_month, month_of, seconds_between, within


def monthly_figures(months: list[Month]) -> dict[str, dict[str, float]]:
    """{month: {"online_bookings", "booked_minutes", "offered_minutes", "no_shows", "attended": number}}."""
    made = month_of(Booking.created_at, months)
    result = counts_by_month(
        db.session.execute(
            sa.select(made, sa.literal("online_bookings"), sa.func.count())
            .where(Booking.kind == BookingKind.ONLINE.value, within(Booking.created_at, months))
            .group_by(made)
        )
    )
    held = sa.and_(Booking.kind != BookingKind.WALK_IN.value, Booking.status.not_in([s.value for s in NOT_HELD]))
    starts = month_of(Booking.starts_at, months)
    rows = db.session.execute(
        sa.select(
            starts,
            sa.func.sum(sa.case((held, seconds_between(Booking.starts_at, Booking.ends_at)), else_=0)),
            sa.func.sum(sa.case((sa.and_(held, Booking.status == BookingStatus.NO_SHOW.value), 1), else_=0)),
            sa.func.sum(
                sa.case(
                    (
                        sa.and_(
                            held,
                            Booking.status != BookingStatus.NO_SHOW.value,
                            sa.or_(Booking.status.in_([s.value for s in ATTENDED]), Booking.checked_in_at.is_not(None)),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ),
        )
        .where(within(Booking.starts_at, months))
        .group_by(starts)
    )
    for month, seconds, no_shows, attended in rows:
        if month is not None:
            figures = result.setdefault(month, {})
            figures.update(booked_minutes=float(seconds or 0) / 60, no_shows=float(no_shows), attended=float(attended))
    for month, minutes in _offered_minutes(months).items():
        result.setdefault(month, {})["offered_minutes"] = minutes
    return result


def _offered_minutes(months: list[Month]) -> dict[str, float]:
    """Seat-minutes all active locations offered per month: opening hours × counters, less holidays and closures."""
    first_day, last_day = months[0].first_day, months[-1].first_day.replace(day=28) + timedelta(days=4)
    last_day = last_day - timedelta(days=last_day.day)
    settings = list(db.session.scalars(sa.select(LocationSettings).where(LocationSettings.active.is_(True))))
    ids = [s.location_id for s in settings]
    periods = list(db.session.scalars(sa.select(OpeningPeriod).where(OpeningPeriod.location_id.in_(ids))))
    closures = list(
        db.session.scalars(
            sa.select(Closure).where(
                Closure.location_id.in_(ids), Closure.first_day <= last_day, Closure.last_day >= first_day
            )
        )
    )
    result: dict[str, float] = {}
    for location in settings:
        own_periods = [p for p in periods if p.location_id == location.location_id]
        own_closures = [c for c in closures if c.location_id == location.location_id]
        per_day = available_minutes(own_periods, own_closures, location.counters, first_day, last_day)
        for day, minutes in per_day.items():
            key = day.strftime("%Y-%m")
            result[key] = result.get(key, 0.0) + minutes
    return result
