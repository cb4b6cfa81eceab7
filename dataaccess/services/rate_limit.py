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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import sqlalchemy as sa

from dataaccess.models_rate import RateCounter
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import utcnow

WINDOW_MINUTES = 60


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

    def count_granted(self) -> None:
        """Add this access (in the caller's transaction, which holds the row since `take`)."""
        self.per_minute[self.minute] = self.per_minute.get(self.minute, 0) + 1
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
