"""A granted permit's life in time: in force from its first day, ended after its last, and the original marked
"extended" when its extension is granted.

- A permit paid (or exempt) before its first day waits in `paid` (or, exempt, in `granted`) with its `valid_from`;
  the applicant and the clerk see "gilt ab …". The daily job `permits.lifecycle` (and `flask permits lifecycle`)
  moves it to `active` on that day, and `active`/`extended` to `ended` the day after `valid_until`.
- Days are Berlin calendar days: a permit for 1 June is in force from midnight in Berlin, not in UTC.
- Each case moves in its own transaction with its audit event, under a row lock taken with SKIP LOCKED, so two
  workers (or the worker and a clerk's click) never move the same case twice; a run finds only what is due, so
  running it again or late changes nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from permits import rules
from permits.models import PermitApplication, PermitState
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import to_berlin, utcnow
from portal.transaction import transaction

S = PermitState
CALENDAR_ACTOR = Actor("system", label="permits-calendar")
# Granted without a fee never passes through fee_notice/paid: it waits in `granted` for its first day.
_WAITING = (S.PAID.value, S.GRANTED.value)
_IN_FORCE = tuple(state.value for state in rules.IN_FORCE)


def today() -> date:
    return to_berlin(utcnow()).date()


def starts_later(application: PermitApplication, on: date | None = None) -> bool:
    """Whether a permit paid (or exempt) now still has to wait for its first day."""
    return application.valid_from is not None and application.valid_from > (on or today())


def activate_if_due(
    actor: Actor, application: PermitApplication, why: str, on: date | None = None, *, notify: bool = True
) -> bool:
    """In the caller's transaction: paid (or exempt) → active when its period has begun; False while it waits."""
    from permits.services import notifications
    from permits.services.applications import _set_state

    if starts_later(application, on):
        return False
    _set_state(actor, application, S.ACTIVE, "permits.permit_activated", why=why)
    if notify:
        notifications.permit_active(application)
    return True


def mark_extended(actor: Actor, extension: PermitApplication) -> None:
    """In the caller's transaction (the extension's grant): the permit it extends moves to `extended`."""
    from permits.services.applications import _set_state

    if extension.extends_id is None:
        return
    original = db.session.scalar(
        sa.select(PermitApplication)
        .where(PermitApplication.id == extension.extends_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    # An original already ended (the extension was decided late) keeps its end; the extension stands on its own.
    if original is None or original.state not in _IN_FORCE:
        return
    _set_state(
        actor,
        original,
        S.EXTENDED,
        "permits.permit_extended",
        extension=extension.reference,
        extended_until=(extension.valid_until.isoformat() if extension.valid_until else None),
    )


@dataclass
class Report:
    activated: int = 0
    ended: int = 0

    def __str__(self) -> str:
        return f"{self.activated} activated, {self.ended} ended"


def _due_ids(condition: sa.ColumnElement[bool]) -> list[int]:
    return list(db.session.scalars(sa.select(PermitApplication.id).where(condition).order_by(PermitApplication.id)))


def _locked(case_id: int, condition: sa.ColumnElement[bool]) -> PermitApplication | None:
    """The case, locked, if it is still due; None when another worker holds it or has moved it already."""
    return db.session.scalar(
        sa.select(PermitApplication)
        .where(PermitApplication.id == case_id, condition)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def run(on: date | None = None) -> Report:
    """Move every case whose day has come; safe to run again, late, and on several hosts at once."""
    on = on or today()
    report = Report()
    starting = sa.and_(
        PermitApplication.state.in_(_WAITING),
        PermitApplication.valid_from.is_not(None),
        PermitApplication.valid_from <= on,
        # `granted` with a fee is only a moment inside the decision's transaction; the fee notice follows.
        sa.or_(PermitApplication.state == S.PAID.value, sa.func.coalesce(PermitApplication.fee_cents, 0) == 0),
    )
    for case_id in _due_ids(starting):
        with transaction():
            application = _locked(case_id, starting)
            if application is not None:
                why = "paid" if application.state == S.PAID.value else "exempt"
                # The "in force" mail says the fee is paid; an exempt applicant has the decision's mail with the dates.
                report.activated += activate_if_due(CALENDAR_ACTOR, application, why, on, notify=why == "paid")
    over = sa.and_(
        PermitApplication.state.in_(_IN_FORCE),
        PermitApplication.valid_until.is_not(None),
        PermitApplication.valid_until < on,
    )
    for case_id in _due_ids(over):
        with transaction():
            application = _locked(case_id, over)
            if application is not None:
                _end(application)
                report.ended += 1
    db.session.commit()  # the reads outside the moves' transactions
    return report


def _end(application: PermitApplication) -> None:
    from permits.services.applications import _set_state

    _set_state(
        CALENDAR_ACTOR,
        application,
        S.ENDED,
        "permits.permit_ended",
        valid_until=application.valid_until.isoformat() if application.valid_until else None,
    )
