"""Many case workers creating cases at once: every committed reference is distinct and none is skipped.

Each thread has its own app context, hence its own session and connection, and takes its number inside its
own transaction. On PostgreSQL 100 threads really run at once (the pool hands out 20 connections, the
others wait for one; those holding one queue on the locks taken by take_number). On a SQLite file 20
threads queue on the database's write lock through the driver's busy timeout.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from portal.extensions import db
from portal.references import next_reference, register_prefix
from portal.transaction import transaction

YEAR = 2026


@pytest.fixture
def app_config(app_config):
    # Enough connections to have many transactions truly in flight without crowding other test runs
    # on the shared PostgreSQL server (max_connections is 100 there).
    options = {"pool_size": 10, "max_overflow": 10, "pool_timeout": 120}
    if app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = {"connect_args": {"timeout": 60}}
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": options}


@pytest.fixture(autouse=True)
def prefix(app):
    register_prefix(app, "TST", service="tests")


def _threads() -> int:
    return 100 if db.engine.dialect.name == "postgresql" else 20


def _race(app, work, count: int) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def run(n: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                outcomes.append(work(n))
            except Exception as error:  # reported by the assertions below
                outcomes.append(f"error: {error!r}")
            finally:
                db.session.remove()

    db.session.remove()  # the test's own connection must hold no lock while the threads race
    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return outcomes


def _numbers(references: list[str]) -> list[int]:
    numbers = []
    for reference in references:
        match = re.fullmatch(r"TST-2026-(\d{6})", reference)
        assert match, reference
        numbers.append(int(match.group(1)))
    return sorted(numbers)


def test_concurrent_transactions_get_distinct_numbers_without_gaps(app):
    count = _threads()

    def take(n: int) -> str:
        with transaction():
            return next_reference("TST", year=YEAR)

    outcomes = _race(app, take, count)

    assert _numbers(outcomes) == list(range(1, count + 1))


def test_numbers_of_rolled_back_transactions_are_reused_so_the_committed_ones_stay_gap_free(app):
    count = _threads()
    failing = {n for n in range(count) if n % 5 == 0}

    class CaseNotSavedError(Exception):
        pass

    def take(n: int) -> str:
        try:
            with transaction():
                reference = next_reference("TST", year=YEAR)
                if n in failing:
                    time.sleep(0.02)  # hold the number a moment so others queue behind it
                    raise CaseNotSavedError(reference)
                return reference
        except CaseNotSavedError:
            return "rolled back"

    outcomes = _race(app, take, count)

    committed = [outcome for outcome in outcomes if outcome != "rolled back"]
    assert outcomes.count("rolled back") == len(failing)
    assert _numbers(committed) == list(range(1, count - len(failing) + 1))
    with transaction():
        assert next_reference("TST", year=YEAR) == f"TST-2026-{count - len(failing) + 1:06d}"


def test_taking_a_number_after_or_before_the_audit_event_never_deadlocks(app):
    """One use case writes its audit event first and then takes a number (a service that asks payments for a
    Kassenzeichen after recording its own step), the other the other way round; both must finish."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two locks that can be taken in either order exist only on PostgreSQL; SQLite has one write lock")
    from portal.actors import SYSTEM
    from portal.audit import services as audit
    from portal.audit.registry import declare

    declare("tests.case_step", ["n"], "Test: a step of a case")

    def take(n: int) -> str:
        with transaction():
            if n % 2:
                audit.record("tests.case_step", SYSTEM, n=n)
                time.sleep(0.2)
                return next_reference("TST", year=YEAR)
            reference = next_reference("TST", year=YEAR)
            time.sleep(0.2)
            audit.record("tests.case_step", SYSTEM, n=n)
            return reference

    outcomes = _race(app, take, 4)

    assert _numbers(outcomes) == [1, 2, 3, 4]
