"""The dpo's watch over the access log: patterns worth a second look, each one bounded aggregate query.

    board = dashboard(dpo_actor)
    board.off_hours_count, board.off_hours         # accesses outside office hours (latest LIST_LIMIT shown)
    board.many_subjects                            # who read at least the threshold of distinct subjects a day
    board.refusals                                 # refused attempts by refusal code
    board.expiring                                 # approved agreements ending within EXPIRY_DAYS
    board.open_reviews                             # break-glass sessions waiting for the dpo's finding

Office hours are Monday to Friday, 7:00 to 18:00 Europe/Berlin, on working days (public holidays of Saxony via
portal.workdays are off hours all day). Neither SQLite nor our schema knows Berlin's time zone, so the office
hours of the window are turned into UTC intervals here (DST included) and the database only compares instants;
"a day" for the distinct-subject count is a Berlin calendar day, bucketed the same way. The window is the last
DATAACCESS_MONITOR_DAYS days (default 30); the threshold DATAACCESS_MANY_SUBJECTS_THRESHOLD (default 20).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import Forbidden

from dataaccess.models import AccessAgreement, AccessLog, AccessOutcome, AgreementState, Dataset
from dataaccess.services import breakglass
from dataaccess.services.common import is_dpo, today
from portal.accounts.models import ApiToken, User
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import BERLIN, to_berlin, utcnow
from portal.workdays import is_working_day

THRESHOLD_SETTING = "DATAACCESS_MANY_SUBJECTS_THRESHOLD"
WINDOW_SETTING = "DATAACCESS_MONITOR_DAYS"
OFFICE_START = time(7, 0)
OFFICE_END = time(18, 0)
EXPIRY_DAYS = 30
LIST_LIMIT = 50


@dataclass(frozen=True)
class ManySubjects:
    """One official (or machine client) who read `subjects` distinct subjects on one Berlin day."""

    user_id: int | None
    token_id: int | None
    day: date
    subjects: int
    reads: int


@dataclass
class Dashboard:
    since: datetime
    days: int
    threshold: int
    off_hours_count: int
    off_hours: list[AccessLog]
    many_subjects: list[ManySubjects]
    refusals: list[tuple[str, int]]
    expiring: list[AccessAgreement]
    open_reviews: list[breakglass.ReviewRow]
    people: dict[int, User] = field(default_factory=dict)
    clients: dict[int, ApiToken] = field(default_factory=dict)

    @property
    def refused_total(self) -> int:
        return sum(count for _code, count in self.refusals)

    def who(self, user_id: int | None, token_id: int | None) -> str:
        if token_id is not None and token_id in self.clients:
            return self.clients[token_id].name
        if user_id is not None and user_id in self.people:
            person = self.people[user_id]
            return f"{person.display_name} ({person.email})" if person.display_name else person.email
        return "–"


def office_intervals(first: date, last: date) -> list[tuple[datetime, datetime]]:
    """The office hours of the working days first..last (Berlin) as UTC instants [start, end)."""
    intervals = []
    day = first
    while day <= last:
        if is_working_day(day):
            start = datetime.combine(day, OFFICE_START, tzinfo=BERLIN)
            end = datetime.combine(day, OFFICE_END, tzinfo=BERLIN)
            intervals.append((start, end))
        day += timedelta(days=1)
    return intervals


def is_office_hours(at: datetime) -> bool:
    local = to_berlin(at)
    return is_working_day(local.date()) and OFFICE_START <= local.time() < OFFICE_END


def _outside_office_hours(since: datetime, now: datetime) -> Any:
    intervals = office_intervals(to_berlin(since).date(), to_berlin(now).date())
    inside = [sa.and_(AccessLog.occurred_at >= start, AccessLog.occurred_at < end) for start, end in intervals]
    return sa.not_(sa.or_(*inside)) if inside else sa.true()


def _berlin_day(since: datetime, now: datetime) -> tuple[Any, list[date]]:
    """A CASE expression giving the index of the Berlin day an access fell on, and the days it indexes."""
    days: list[date] = []
    day = to_berlin(since).date()
    while day <= to_berlin(now).date():
        days.append(day)
        day += timedelta(days=1)
    ends = [datetime.combine(d + timedelta(days=1), time(0), tzinfo=BERLIN) for d in days]
    return sa.case(*[(AccessLog.occurred_at < end, index) for index, end in enumerate(ends)], else_=len(days) - 1), days


def _many_subjects(since: datetime, now: datetime, threshold: int) -> list[ManySubjects]:
    day_expr, days = _berlin_day(since, now)
    reads = (
        sa.select(
            AccessLog.actor_user_id.label("user_id"),
            AccessLog.actor_token_id.label("token_id"),
            day_expr.label("day"),
            breakglass.subject_key().label("subject"),
            AccessLog.id.label("id"),
        )
        .where(AccessLog.occurred_at >= since, AccessLog.outcome == AccessOutcome.GRANTED.value)
        .subquery()
    )
    subjects = sa.func.count(sa.distinct(reads.c.subject))
    rows = db.session.execute(
        sa.select(reads.c.user_id, reads.c.token_id, reads.c.day, subjects, sa.func.count(reads.c.id))
        .group_by(reads.c.user_id, reads.c.token_id, reads.c.day)
        .having(subjects >= threshold)
        .order_by(subjects.desc(), reads.c.day.desc())
        .limit(LIST_LIMIT)
    )
    return [ManySubjects(row[0], row[1], days[int(row[2])], int(row[3]), int(row[4])) for row in rows]


def dashboard(actor: Actor, now: datetime | None = None) -> Dashboard:
    """What the dpo should look at, over the last DATAACCESS_MONITOR_DAYS days. The dpo only."""
    if not is_dpo(actor):
        raise Forbidden()
    now = now or utcnow()
    days = int(current_app.config.get(WINDOW_SETTING, 30))
    threshold = int(current_app.config.get(THRESHOLD_SETTING, 20))
    since = now - timedelta(days=days)
    in_window = sa.and_(AccessLog.occurred_at >= since, AccessLog.occurred_at <= now)

    outside = sa.and_(in_window, _outside_office_hours(since, now))
    off_hours_count = db.session.scalar(sa.select(sa.func.count(AccessLog.id)).where(outside)) or 0
    off_hours = list(
        db.session.scalars(
            sa.select(AccessLog)
            .options(joinedload(AccessLog.dataset).joinedload(Dataset.department))
            .where(outside)
            .order_by(AccessLog.occurred_at.desc(), AccessLog.id.desc())
            .limit(LIST_LIMIT)
        )
    )
    many = _many_subjects(since, now, threshold)
    refusals = [
        (str(row[0]), int(row[1]))
        for row in db.session.execute(
            sa.select(AccessLog.refusal_code, sa.func.count(AccessLog.id))
            .where(in_window, AccessLog.outcome == AccessOutcome.REFUSED.value)
            .group_by(AccessLog.refusal_code)
            .order_by(sa.func.count(AccessLog.id).desc(), AccessLog.refusal_code)
        )
    ]
    day = today()
    expiring = list(
        db.session.scalars(
            sa.select(AccessAgreement)
            .options(
                joinedload(AccessAgreement.dataset).joinedload(Dataset.department),
                joinedload(AccessAgreement.consumer_department),
            )
            .where(
                AccessAgreement.state == AgreementState.APPROVED.value,
                AccessAgreement.valid_to >= day,
                AccessAgreement.valid_to <= day + timedelta(days=EXPIRY_DAYS),
            )
            .order_by(AccessAgreement.valid_to, AccessAgreement.reference)
        )
    )
    board = Dashboard(
        since=since,
        days=days,
        threshold=threshold,
        off_hours_count=int(off_hours_count),
        off_hours=off_hours,
        many_subjects=many,
        refusals=refusals,
        expiring=expiring,
        open_reviews=breakglass.reviews(actor),
    )
    user_ids = {log.actor_user_id for log in off_hours} | {m.user_id for m in many}
    token_ids = {log.actor_token_id for log in off_hours} | {m.token_id for m in many}
    user_ids.discard(None)
    token_ids.discard(None)
    if user_ids:
        board.people = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))}
    if token_ids:
        board.clients = {t.id: t for t in db.session.scalars(sa.select(ApiToken).where(ApiToken.id.in_(token_ids)))}
    return board
