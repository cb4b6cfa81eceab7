"""The availability version: a counter per location raised by every change that can alter its free times.

Slot searches cache their answer per worker keyed on it (availability.py), so a write the counter misses
would let a worker show seats that are gone. Rather than trusting every service (and every future one) to
remember a call, the session watches writes to the tables the answer is computed from: seat claims, the
location's settings, opening periods, closures, offered services and catalogue services. Both kinds of write
are seen: objects flushed by the unit of work and bulk INSERT/UPDATE/DELETE statements given to
session.execute (for those, the locations their WHERE clause matches are looked up first). Just before the
outermost transaction commits, each location touched gets `availability_version = availability_version + 1`
in that same transaction, so the new version and the new rows become visible together.

Why at commit and not at the write: the UPDATE holds the location row's lock until the commit. Taken as the
transaction's last statement, the lock is never held while waiting for anything else (seat rows, the audit
chain's advisory lock), so no deadlock can form around it, and concurrent bookings at one location queue for
it only for the moment of their commit.

Not seen: raw SQL (sa.text) and writes by other programs. Searches recompute at least once a minute anyway
(availability.CACHE_MAX_AGE), which bounds what such a write could leave stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from appointments.models import Closure, LocationSettings, OfferedService, OpeningPeriod, SeatClaim
from portal.departments.models import CatalogueService

__all__ = ["ALL_LOCATIONS", "bump", "touch"]

TOUCHED = "appointments.availability_touched"  # session.info: location ids (or ALL_LOCATIONS) to bump
SERVICES = "appointments.availability_services"  # session.info: catalogue service ids changed
BUMPED = "appointments.availability_bumped"  # session.info: location ids bumped, for after the commit (search_cache)
BUMPING = "appointments_availability_bump"  # execution option marking the bump itself
ALL_LOCATIONS = 0  # no location has id 0: "could not tell which, raise them all"

_BY_LOCATION = (SeatClaim, LocationSettings, OpeningPeriod, Closure, OfferedService)
_LOCATION_TABLES = {model.__tablename__: model.__table__ for model in _BY_LOCATION}


def touch(session: Session, location_id: int) -> None:
    """Mark the location's free times as changed by this transaction (bumped at its commit)."""
    session.info.setdefault(TOUCHED, set()).add(location_id)


def bump(session: Session, location_ids: Iterable[int]) -> None:
    """Raise the version of these locations now (ALL_LOCATIONS among them: of every location)."""
    ids = set(location_ids)
    statement = sa.update(LocationSettings).values(availability_version=LocationSettings.availability_version + 1)
    options = {BUMPING: True, "synchronize_session": False}
    if ALL_LOCATIONS in ids:
        session.execute(statement.execution_options(**options))
        return
    # One row at a time in id order: two transactions bumping the same locations lock them in the same order.
    for location_id in sorted(ids):
        session.execute(statement.where(LocationSettings.location_id == location_id).execution_options(**options))


@event.listens_for(Session, "before_flush")
def _flushed(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _BY_LOCATION):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            history = sa.inspect(obj).attrs.location_id.history  # type: ignore[attr-defined]
            for location_id in (obj.location_id, *history.deleted):
                if location_id is not None:
                    touch(session, location_id)
        elif isinstance(obj, CatalogueService) and obj.id is not None and obj not in session.new:
            # Nothing offers a service that is new; one switched off or deleted takes its offers with it.
            session.info.setdefault(SERVICES, set()).add(obj.id)


def _statement_parameters(state: ORMExecuteState) -> list[dict[str, Any]]:
    parameters = state.parameters
    if parameters is None:
        return []
    return list(parameters) if isinstance(parameters, list | tuple) else [parameters]  # type: ignore[list-item]


def _inserted_locations(state: ORMExecuteState) -> set[int]:
    statement: Any = state.statement
    rows = _statement_parameters(state)
    if not rows and getattr(statement, "select", None) is None:
        rows = [statement.compile().params]
    found = {row.get("location_id") for row in rows}
    if not rows or None in found:
        return {ALL_LOCATIONS}
    return {int(location_id) for location_id in found}  # type: ignore[arg-type]


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete) or state.execution_options.get(BUMPING):
        return
    statement: Any = state.statement
    name = getattr(statement.table, "name", None)
    session = state.session
    if name in _LOCATION_TABLES:
        if state.is_insert:
            for location_id in _inserted_locations(state):
                touch(session, location_id)
            return
        if _statement_parameters(state):  # executemany by primary key: no single WHERE to look up
            touch(session, ALL_LOCATIONS)
            return
        table = _LOCATION_TABLES[name]
        query = sa.select(table.c.location_id).distinct()
        if statement.whereclause is not None:
            query = query.where(statement.whereclause)
        for location_id in session.execute(query).scalars():
            touch(session, location_id)
    elif name == CatalogueService.__tablename__ and not state.is_insert:
        if _statement_parameters(state):
            touch(session, ALL_LOCATIONS)
            return
        query = sa.select(CatalogueService.id)
        if statement.whereclause is not None:
            query = query.where(statement.whereclause)
        session.info.setdefault(SERVICES, set()).update(session.execute(query).scalars())


@event.listens_for(Session, "before_commit")
def _committing(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT: the outer transaction bumps when it commits
    if not (session.info.get(TOUCHED) or session.info.get(SERVICES) or session.new or session.dirty or session.deleted):
        return
    session.flush()  # commit would flush after this hook; its writes must be counted first
    touched: set[int] = session.info.pop(TOUCHED, set())
    services: set[int] = session.info.pop(SERVICES, set())
    if services:
        touched.update(
            session.execute(
                sa.select(OfferedService.location_id).where(OfferedService.catalogue_service_id.in_(services))
            ).scalars()
        )
    if touched:
        bump(session, touched)
        session.info.setdefault(BUMPED, set()).update(touched)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction: committed (and bumped) or rolled back
        session.info.pop(TOUCHED, None)
        session.info.pop(SERVICES, None)
        session.info.pop(BUMPED, None)  # after_commit has taken it; after a rollback nothing was bumped
