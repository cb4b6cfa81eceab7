"""Human reference numbers: `SNU-2026-000042`, one gap-free counter per prefix and year.

    from portal.references import next_reference, register_prefix

    register_prefix(app, "SNU", service="permits", description="Sondernutzungserlaubnis")  # in register(app)
    ...
    with transaction():
        case = Case(reference=next_reference("SNU"), ...)

How it stays gap-free and duplicate-free: `next_reference` runs one statement,

    INSERT INTO reference_counter (prefix, year, last_value) VALUES (:p, :y, 1)
    ON CONFLICT (prefix, year) DO UPDATE SET last_value = reference_counter.last_value + 1
    RETURNING last_value

inside the caller's transaction and does not commit. On PostgreSQL the update locks the counter row until
the caller commits or rolls back; a concurrent caller for the same prefix and year waits on that lock and
then reads the committed value (the first row of a year is settled the same way by the unique key). If the
first caller rolls back, its number was never committed and the next caller gets it: no gaps, no
duplicates. On SQLite the same statement (SQLite >= 3.35 for RETURNING) takes the database's write lock,
which SQLite holds until commit anyway; concurrent writers wait for it (the driver's busy timeout).
This relies on PostgreSQL's default isolation, READ COMMITTED; under REPEATABLE READ or SERIALIZABLE the
waiting caller would get a serialization error instead of the next number.

The price: writers of one prefix and year are serialised from the moment they take a number until they
commit. Creating cases is a rare, short transaction (a few per minute even on a busy day), so this is
acceptable; do not take a number early in a long transaction, and do not use this for high-volume ids
(use the primary key for those).

One more lock on PostgreSQL: before the counter row, `take_number` takes the audit chain's transaction
lock (portal.audit.services), which every audited use case takes anyway and holds until it commits. So the
two locks are always taken in the same order, chain then counter, and two transactions can never deadlock,
whether a use case writes its audit event before or after taking a number (a service recording its step
and then asking payments for a Kassenzeichen, while another does it the other way round).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

import sqlalchemy as sa
from flask import Flask, current_app

from portal.audit.services import CHAIN_LOCK_KEY
from portal.extensions import db
from portal.references.models import ReferenceCounter
from portal.timeutil import to_berlin, utcnow

PREFIX_RE = re.compile(r"[A-Z]{2,5}")
REFERENCE_RE = re.compile(r"([A-Z]{2,5})-(\d{4})-(\d{6,})")
_REGISTRY_KEY = "stadtportal_reference_prefixes"


@dataclass(frozen=True)
class ReferencePrefix:
    prefix: str
    service: str
    description: str = ""


def register_prefix(app: Flask, prefix: str, *, service: str, description: str = "") -> ReferencePrefix:
    """Claim `prefix` for `service` (call from the service's register(app)).

    Two services claiming one prefix is a configuration error: the app refuses to start.
    """
    if not PREFIX_RE.fullmatch(prefix):
        raise ValueError(f"reference prefix {prefix!r} must be 2 to 5 capital letters A-Z")
    registry: dict[str, ReferencePrefix] = app.extensions.setdefault(_REGISTRY_KEY, {})
    existing = registry.get(prefix)
    if existing is not None and existing.service != service:
        raise ValueError(f"reference prefix {prefix!r} is already used by {existing.service!r}, not by {service!r}")
    registry[prefix] = ReferencePrefix(prefix, service, description)
    return registry[prefix]


def registered_prefixes(app: Flask | None = None) -> dict[str, ReferencePrefix]:
    return dict((app or current_app).extensions.get(_REGISTRY_KEY, {}))


def current_year() -> int:
    """The calendar year in Europe/Berlin: a case opened at 00:30 on 1 January counts to the new year."""
    return to_berlin(utcnow()).year


def take_number(key: str, year: int) -> int:
    """Increment the counter (key, year) in the current transaction and return the new value (1, 2, ...).

    The low-level step under `next_reference` and `next_kassenzeichen`; see the module docstring for the
    locking. Does not commit.
    """
    table = cast(sa.Table, ReferenceCounter.__table__)
    dialect = db.session.get_bind(mapper=ReferenceCounter).dialect
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    elif dialect.name == "sqlite":
        if dialect.server_version_info is not None and dialect.server_version_info < (3, 35):
            raise RuntimeError("reference numbers need SQLite 3.35 or newer (INSERT ... RETURNING)")
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:
        raise RuntimeError(f"reference numbers are not implemented for {dialect.name}")
    statement = (
        insert(table)
        .values(prefix=key, year=year, last_value=1)
        .on_conflict_do_update(
            index_elements=[table.c.prefix, table.c.year], set_={"last_value": table.c.last_value + 1}
        )
        .returning(table.c.last_value)
    )
    return int(db.session.execute(statement).scalar_one())


def format_reference(prefix: str, year: int, value: int) -> str:
    """`SNU-2026-000042`; the number has six digits and simply grows a seventh after 999999."""
    return f"{prefix}-{year:04d}-{value:06d}"


def next_reference(prefix: str, *, year: int | None = None) -> str:
    """The next reference for a registered prefix in `year` (default: this year in Europe/Berlin).

    Call inside the caller's `with transaction():`; the number is only spent if that transaction commits.
    """
    if prefix not in current_app.extensions.get(_REGISTRY_KEY, {}):
        raise LookupError(
            f"reference prefix {prefix!r} is not registered; call "
            f"portal.references.register_prefix(app, {prefix!r}, service=...) in the service's register(app)"
        )
    year = current_year() if year is None else year
    if not 1 <= year <= 9999:
        raise ValueError(f"year {year} out of range")
    return format_reference(prefix, year, take_number(prefix, year))


def parse_reference(text: str) -> tuple[str, int, int] | None:
    """(prefix, year, number) of a well-formed reference, tolerant of case and surrounding spaces; else None."""
    match = REFERENCE_RE.fullmatch(text.strip().upper())
    if match is None:
        return None
    return match.group(1), int(match.group(2)), int(match.group(3))


def last_issued(prefix: str, year: int) -> int:
    """The last number given out (0 if none yet), e.g. for a statistics page."""
    value = db.session.scalar(
        sa.select(ReferenceCounter.last_value).where(ReferenceCounter.prefix == prefix, ReferenceCounter.year == year)
    )
    return int(value or 0)
