"""The agreements' hourly limit in constant time: how many accesses one official (or machine client) was granted
under one agreement in the last hour, without counting log rows.

    window = take(agreement.reference, reader_of(actor))   # locks the reader's row until the transaction ends
    if (seconds := window.retry_after(agreement.rate_limit_per_hour)) is not None: ... refuse ...
    window.count_granted()                                 # only once the access is granted

One row per agreement reference (all its versions share the limit) and reader keeps the granted accesses per
minute of the last hour (models_rate.RateCounter): at most 61 numbers, however many accesses there were. Taking
the row is an upsert that locks it, so two accesses of one reader wait for each other from counting to commit
and cannot both take the last free access; other readers are not held up. A refused access adds nothing.

Counting by whole minutes, an access counts until the end of the 60th minute after the minute it happened in,
60 to 61 minutes: as with the count over the access log this replaces, no reader gets more than the limit in
any 60 minutes; a reader at the limit may wait up to a minute longer than exact times would make them.

Allowances reserved in batches (`admit`): taking the row for every access made all accesses of one client wait
for each other, from the upsert to the commit (60 % of the database sessions' samples under load, a floor of
640–680 accesses/s for one client in pgbench). For a high limit a worker process therefore reserves a batch of
allowances at once (`batch_for`: a hundredth of the limit, at most 50; one for limits under 200, which keeps
small limits exactly as above), counts them in the row in the access's transaction, and spends the rest from
memory, without any statement, until the batch is used or its minute ends. How exact that is:
- never more: the row counts every allowance reserved, used or not, so no reader is granted more than the limit
  in any 60 minutes, however many workers or hosts serve it;
- possibly fewer, for a while: allowances another worker holds unused count against the limit, so a reader can be
  refused while up to (workers − 1) × (batch − 1) allowances are held elsewhere (at most 49 per other worker,
  under 1 % of the limit each). Allowances left at the end of their minute are given back (subtracted from their
  minute) with that worker's next reservation; those of a worker that stopped count until they age out.
- a refusal after admission (the citizen's request was used meanwhile) or a failed access gives its allowance
  back to the worker; a reservation whose transaction rolls back was never counted.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from flask import current_app

from dataaccess.models_rate import RateCounter
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import utcnow

WINDOW_MINUTES = 60
BATCH_SHARE = 100  # a batch is at most this fraction of the limit ...
BATCH_MAX = 50  # ... and at most this many allowances
_EXTENSION = "dataaccess_allowances"


def batch_for(limit: int) -> int:
    """How many allowances a worker reserves at once under `limit` (1: every access takes the row)."""
    return max(1, min(BATCH_MAX, limit // BATCH_SHARE))


def reader_of(actor: Actor) -> str | None:
    """Whose limit an access uses: the token's for a client (and a person's personal token), else the person's."""
    if actor.token is not None:
        return f"token:{actor.token.id}"
    if actor.user is not None:
        return f"user:{actor.user.id}"
    return None


@dataclass
class Window:
    agreement_reference: str
    reader: str
    per_minute: dict[int, int]  # the last WINDOW_MINUTES + 1 minutes only
    now: datetime

    @property
    def minute(self) -> int:
        return int(self.now.timestamp() // 60)

    @property
    def granted(self) -> int:
        return sum(self.per_minute.values())

    def retry_after(self, limit: int) -> int | None:
        """Seconds until one more access fits under `limit`; None if it fits now."""
        excess = self.granted - limit + 1
        if excess <= 0:
            return None
        for minute in sorted(self.per_minute):
            excess -= self.per_minute[minute]
            if excess <= 0:
                leaves = (minute + WINDOW_MINUTES + 1) * 60  # the minute's accesses stop counting then
                return max(1, math.ceil(leaves - self.now.timestamp()))
        raise AssertionError("unreachable: the counts add up to more than the excess")

    def count_granted(self, n: int = 1, returned: dict[int, int] | None = None) -> None:
        """Add this access, or a batch of `n` allowances, and subtract allowances `returned` unused from their
        minutes (in the caller's transaction, which holds the row since `take`)."""
        for minute, unused in (returned or {}).items():
            if minute in self.per_minute:
                self.per_minute[minute] = max(0, self.per_minute[minute] - unused)
        self.per_minute = {m: c for m, c in self.per_minute.items() if c > 0}
        self.per_minute[self.minute] = self.per_minute.get(self.minute, 0) + n
        db.session.execute(
            sa.update(RateCounter)
            .where(RateCounter.agreement_reference == self.agreement_reference, RateCounter.reader == self.reader)
            .values(per_minute={str(m): n for m, n in sorted(self.per_minute.items())})
            .execution_options(synchronize_session=False)
        )


def take(agreement_reference: str, reader: str) -> Window:
    """The reader's counts of the last hour, with their row locked until the caller's transaction ends."""
    table = cast(sa.Table, RateCounter.__table__)
    if db.session.get_bind(mapper=RateCounter).dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    # An insert of an existing row turns into an update that changes nothing but takes the row's lock; on
    # PostgreSQL it then returns the row as the access before us committed it.
    statement = (
        insert(table)
        .values(agreement_reference=agreement_reference, reader=reader, per_minute={})
        .on_conflict_do_update(
            index_elements=[table.c.agreement_reference, table.c.reader], set_={"per_minute": table.c.per_minute}
        )
        .returning(table.c.per_minute)
    )
    stored = db.session.execute(statement).scalar_one() or {}
    window = Window(agreement_reference, reader, {}, utcnow())  # now: after any wait for the row
    oldest = window.minute - WINDOW_MINUTES
    window.per_minute = {int(m): int(n) for m, n in stored.items() if int(m) >= oldest}
    return window


# --- allowances reserved in batches ----------------------------------------------------------------------------


@dataclass
class _Held:
    minute: int
    count: int


@dataclass
class Allowances:
    """One worker process's reserved, unused allowances per (agreement reference, reader): valid in the minute
    they were counted in only (see the module docstring). Kept on the Flask app, so each app (and each test) has
    its own."""

    held: dict[tuple[str, str], _Held] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def spend(self, key: tuple[str, str], minute: int) -> bool:
        with self.lock:
            held = self.held.get(key)
            if held is None or held.minute != minute or held.count <= 0:
                return False
            held.count -= 1
            return True

    def put(self, key: tuple[str, str], minute: int, count: int) -> None:
        with self.lock:
            held = self.held.get(key)
            if held is not None and held.minute == minute:
                held.count += count
            elif count > 0:
                self.held[key] = _Held(minute, count)

    def expired(self, key: tuple[str, str], minute: int) -> dict[int, int]:
        """Removes and returns the allowances held from an earlier minute ({minute: count}), to be given back."""
        with self.lock:
            held = self.held.get(key)
            if held is None or held.minute == minute:
                return {}
            del self.held[key]
            return {held.minute: held.count} if held.count > 0 else {}


def allowances() -> Allowances:
    return cast(Allowances, current_app.extensions.setdefault(_EXTENSION, Allowances()))


@dataclass
class Admission:
    """Whether an access fits under the limit (`retry_after` None). Once the access is sure to be granted, `use()`
    counts it (the reservation's statement, if any, in the caller's transaction); once that transaction ended,
    `settle(granted, committed)` puts unused allowances in the worker's hands."""

    retry_after: int | None
    key: tuple[str, str]
    minute: int
    window: Window | None = None  # the reader's row, locked, when this access reserves
    batch: int = 0  # allowances to reserve with use() (this one included)
    returned: dict[int, int] = field(default_factory=dict)  # unused from an earlier minute, given back by use()
    from_memory: bool = False  # the allowance came from the worker's batch
    reserved: int = 0  # what use() counted in the row

    def use(self) -> None:
        if self.window is not None:
            self.window.count_granted(self.batch, self.returned)
            self.reserved = self.batch

    def settle(self, granted: bool, committed: bool) -> None:
        pool = allowances()
        if self.from_memory:
            if not granted:  # not used: it stays counted in the row and may be spent again
                pool.put(self.key, self.minute, 1)
        elif self.reserved and committed:
            pool.put(self.key, self.minute, self.reserved - (1 if granted else 0))
        else:  # nothing was counted (or it rolled back): the allowances from an earlier minute are held again
            for minute, count in self.returned.items():
                pool.put(self.key, minute, count)


def admit(agreement_reference: str, reader: str, limit: int) -> Admission:
    """Whether one more access of `reader` fits under `limit`: an allowance the worker holds, or else a batch to
    reserve in the reader's row (which this transaction then holds until it ends)."""
    key = (agreement_reference, reader)
    batch = batch_for(limit)
    minute = int(utcnow().timestamp() // 60)
    pool = allowances()
    if batch > 1 and pool.spend(key, minute):
        return Admission(None, key, minute, from_memory=True)
    returned = pool.expired(key, minute)
    window = take(agreement_reference, reader)
    free = limit - sum(max(0, count - returned.get(m, 0)) for m, count in window.per_minute.items())
    if free <= 0:
        return Admission(window.retry_after(limit), key, window.minute, returned=returned)
    return Admission(None, key, window.minute, window=window, batch=min(batch, free), returned=returned)
