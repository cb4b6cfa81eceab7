"""Concurrent writers on PostgreSQL: the advisory lock keeps the chain linear (no fork, no gap)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.audit.models import AuditEvent
from portal.departments.models import Department
from portal.extensions import db
from portal.transaction import transaction

pytestmark = pytest.mark.skipif(
    os.environ.get("STADTPORTAL_TEST_DB", "sqlite") != "postgresql",
    reason="concurrent writers need PostgreSQL (SQLite serialises whole-database writes)",
)

ROOT = Path(__file__).resolve().parents[3]

WRITER = """
import sys
from portal import create_app
from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.transaction import transaction

app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1]}, env="test")
with app.app_context():
    for i in range(int(sys.argv[2])):
        with transaction():
            audit.record("account.login", SYSTEM, method="process", writer=sys.argv[3], n=i)
"""


def _assert_linear(expected: int) -> None:
    db.session.expire_all()
    rows = db.session.execute(sa.select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash).order_by(AuditEvent.seq))
    rows = rows.all()
    assert [r.seq for r in rows] == list(range(1, expected + 1))
    prev_hashes = [r.prev_hash for r in rows]
    assert len(set(prev_hashes)) == len(prev_hashes), "two events were appended after the same predecessor"
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, len(rows)))


def test_threads_writing_at_once_keep_one_linear_chain(app, runner):
    threads_count, per_thread = 8, 25
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for i in range(per_thread):
                    with transaction():
                        # A real use case: a change and its event, committed together.
                        department = Department(slug=f"amt-{n}-{i}", name=f"Amt {n}/{i}")
                        db.session.add(department)
                        audit.record("department.saved", SYSTEM, target=department, name=department.name)
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    _assert_linear(threads_count * per_thread)
    result = runner.invoke(args=["audit", "verify", "--quiet"])
    assert result.exit_code == 0, result.output
    assert f"{threads_count * per_thread} events checked" in result.stdout


def test_processes_writing_at_once_keep_one_linear_chain(app, runner):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    processes_count, per_process = 3, 30
    with transaction():
        audit.record("account.login", SYSTEM, method="parent")
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, str(per_process), str(n)], cwd=ROOT)
        for n in range(processes_count)
    ]
    # Meanwhile, checkpoints from this process: each must cover exactly the chain before its own event.
    for _ in range(3):
        assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    assert [p.wait(timeout=120) for p in processes] == [0] * processes_count

    _assert_linear(1 + processes_count * per_process + 3)
    result = runner.invoke(args=["audit", "verify", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "3 checkpoints verified" in result.stdout
