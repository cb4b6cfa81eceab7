"""Monthly figures in SQL that run the same on PostgreSQL and SQLite: a period of calendar months (Europe/Berlin),
the month a timestamp falls in as a SQL expression, and the seconds between two timestamps.

    months = month_range(date(2026, 1, 1), date(2026, 6, 1))
    bucket = month_of(Payment.succeeded_at, months)             # CASE WHEN … < '2026-02-01 …' THEN '2026-01' …
    rows = db.session.execute(sa.select(bucket, sa.func.count()).where(within(Payment.succeeded_at, months))
                              .group_by(bucket))

The month boundaries are computed in Python (midnight in Berlin, as UTC), so the bucket is exact on both
databases without time-zone support in SQLite, and a query groups by month in one statement whatever the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from portal.timeutil import BERLIN, as_utc

MAX_MONTHS = 36


@dataclass(frozen=True)
class Month:
    key: str  # "2026-03"
    start: datetime  # UTC: midnight of its first day in Berlin
    end: datetime  # UTC: midnight of the next month's first day in Berlin

    @property
    def first_day(self) -> date:
        return date(int(self.key[:4]), int(self.key[5:]), 1)

    @property
    def label(self) -> str:
        return self.first_day.strftime("%m/%Y")


def _next(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _midnight(day: date) -> datetime:
    return as_utc(datetime.combine(day, time(0), tzinfo=BERLIN))


def month_range(first: date, last: date) -> list[Month]:
    """The months from the one holding `first` to the one holding `last`, both included (at most MAX_MONTHS)."""
    day, end = date(first.year, first.month, 1), date(last.year, last.month, 1)
    months: list[Month] = []
    while day <= end and len(months) < MAX_MONTHS:
        following = _next(day)
        months.append(Month(day.strftime("%Y-%m"), _midnight(day), _midnight(following)))
        day = following
    return months


def within(column: Any, months: list[Month]) -> Any:
    """The timestamp falls in the period."""
    return sa.and_(column >= months[0].start, column < months[-1].end)


def month_of(column: Any, months: list[Month]) -> Any:
    """The key of the month ("2026-03") the timestamp falls in, as SQL; NULL outside the period."""
    return sa.case(*((column < month.end, month.key) for month in months), else_=sa.null())


def seconds_between(start: Any, end: Any) -> Any:
    """end − start in seconds, as SQL on the session's database."""
    from portal.extensions import db

    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def is_postgresql() -> bool:
    from portal.extensions import db

    return db.session.get_bind().dialect.name == "postgresql"


def percentile(values: list[float], share: float) -> float | None:
    """The percentile as PostgreSQL's percentile_cont computes it (linear between the two nearest values)."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def counts_by_month(rows: Any) -> dict[str, dict[str, float]]:
    """{month: {category: value}} from rows of (month, category, value); rows outside the period are dropped."""
    result: dict[str, dict[str, float]] = {}
    for month, category, value in rows:
        if month is not None:
            result.setdefault(month, {})[str(category)] = float(value or 0)
    return result
