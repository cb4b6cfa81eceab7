"""Permit figures per month for the city's e-government controlling: applications submitted per use type, and the
processing time from submission to decision (median and 90th percentile). Anonymous figures; the caller checks
who may see them. Two statements, whatever the number of cases.

A case counts as decided by `decided_at`; a case that is in a decision state (granted, refused) without it counts
from the moment it entered that state (`state_changed_at`), so figures appear as soon as clerks decide.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from permits.models import PermitApplication, PermitState, UseType
from portal.extensions import db
from portal.reporting import Month, counts_by_month, is_postgresql, month_of, percentile, seconds_between, within

DECISION_STATES = (PermitState.GRANTED.value, PermitState.REFUSED.value)
DAY = 86400.0


@dataclass(frozen=True)
class ProcessingTime:
    decided: int
    median_days: float | None
    p90_days: float | None


def submissions(months: list[Month], locale: str = "de") -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """({month: {use type code: count}}, {use type code: name}) by the month of submission."""
    bucket = month_of(PermitApplication.submitted_at, months)
    code = sa.func.coalesce(UseType.code, "")
    rows = db.session.execute(
        sa.select(bucket, code, sa.func.count(), sa.func.max(UseType.name_de), sa.func.max(UseType.name_en))
        .select_from(PermitApplication)
        .outerjoin(UseType, UseType.id == PermitApplication.use_type_id)
        .where(within(PermitApplication.submitted_at, months))
        .group_by(bucket, code)
    ).all()
    names = {row[1]: (row[4] if locale.startswith("en") and row[4] else row[3]) or row[1] for row in rows}
    return counts_by_month((row[0], row[1], row[2]) for row in rows), names


def processing_times(months: list[Month]) -> dict[str, ProcessingTime]:
    """{month of decision: ProcessingTime}: submitted → decided, in days."""
    decided_at = sa.case(
        (PermitApplication.decided_at.is_not(None), PermitApplication.decided_at),
        (PermitApplication.state.in_(DECISION_STATES), PermitApplication.state_changed_at),
        else_=sa.null(),
    )
    bucket = month_of(decided_at, months)
    seconds = seconds_between(PermitApplication.submitted_at, decided_at)
    where = (PermitApplication.submitted_at.is_not(None), within(decided_at, months))
    if is_postgresql():
        rows = db.session.execute(
            sa.select(
                bucket,
                sa.func.count(),
                sa.func.percentile_cont(0.5).within_group(seconds),
                sa.func.percentile_cont(0.9).within_group(seconds),
            )
            .where(*where)
            .group_by(bucket)
        )
        return {
            month: ProcessingTime(count, median / DAY, p90 / DAY)
            for month, count, median, p90 in rows
            if month is not None
        }
    # SQLite has no percentile aggregate: one statement for the durations, the percentiles in Python.
    per_month: dict[str, list[float]] = {}
    for month, value in db.session.execute(sa.select(bucket, seconds).where(*where)):
        if month is not None:
            per_month.setdefault(month, []).append(float(value) / DAY)
    return {
        month: ProcessingTime(len(values), percentile(values, 0.5), percentile(values, 0.9))
        for month, values in per_month.items()
    }
