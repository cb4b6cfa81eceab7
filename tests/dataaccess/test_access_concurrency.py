"""One official's accesses at the same moment cannot both take the last access the rate limit allows: each
access runs in its own thread, app context and connection; the first is held inside its transaction, right after
taking its rate counter, until the second has started."""

from __future__ import annotations

import os
import threading

import pytest

from dataaccess.errors import AccessRefused
from dataaccess.services import access, rate_limit
from portal.accounts.models import User
from portal.actors import Actor
from portal.extensions import db
from tests.dataaccess.builders import approved_agreement, log_rows

pytestmark = pytest.mark.skipif(
    os.environ.get("STADTPORTAL_TEST_DB", "sqlite") != "postgresql",
    reason="concurrent writers need PostgreSQL (SQLite serialises whole-database writes)",
)


@pytest.mark.parametrize("earlier", [0, 1], ids=["first-accesses-of-the-hour", "after-one-granted-access"])
def test_two_concurrent_accesses_over_the_limit_one_is_refused(app, world, monkeypatch, earlier):
    reference = approved_agreement(world, rate_limit_per_hour=earlier + 1).reference
    official_id, citizen_id, purpose = world.official.id, world.citizen.id, world.purpose.code
    for _ in range(earlier):  # the reader's counter row exists already: the second access waits on its lock
        access.read(Actor.for_user(world.official), reference, purpose, "VA-0", citizen_id, ["status"])
    first_counted = threading.Event()
    real_take = rate_limit.take

    def count_and_linger(*args):
        window = real_take(*args)
        if not first_counted.is_set():
            first_counted.set()
            threading.Event().wait(0.5)  # still inside the transaction when the other access arrives
        return window

    monkeypatch.setattr(rate_limit, "take", count_and_linger)
    outcomes: list[str] = []

    def read(delay: bool) -> None:
        with app.app_context():
            try:
                if delay:
                    first_counted.wait(10)
                actor = Actor.for_user(db.session.get(User, official_id))
                access.read(actor, reference, purpose, "VA-1", citizen_id, ["status"])
                outcomes.append("granted")
            except AccessRefused as error:
                outcomes.append(error.code)
            except Exception as error:  # reported by the assertion below
                outcomes.append(f"error: {error!r}")
            finally:
                db.session.remove()

    db.session.remove()
    threads = [threading.Thread(target=read, args=(False,)), threading.Thread(target=read, args=(True,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["granted", "rate_limited"], outcomes
    assert sorted(row.outcome for row in log_rows()) == ["granted"] * (earlier + 1) + ["refused"]
