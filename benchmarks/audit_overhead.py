"""What does the audit trail add to a transaction on PostgreSQL? (target: ≤ 2 ms mean and p95)

    .venv/bin/python benchmarks/audit_overhead.py                      # 2,000 transactions of each kind
    .venv/bin/python benchmarks/audit_overhead.py -n 500 --prefill 100000 --threads 4

Makes a temporary database (migrations), then runs N small use cases twice, interleaved so drift in the
machine's load hits both alike: insert one Department and commit, once without and once with
audit.record("department.saved", ...) in the same transaction. Reports mean and p95 per transaction and the
difference, i.e. the added cost of the audit event. "With audit" includes chaining it: record() queues the event
in the use case's transaction and the sequencer chains it right after the commit, in the writer's own thread
(portal.audit.sequencer), so that time is inside the measured wall time.
--prefill loads a long chain first (to show the cost does not grow with the trail); --threads also measures
throughput with several concurrent writers, while the sequencer job runs in a thread of its own (every
--job-seconds) and a watcher polls audit_event for new events every 10 ms to measure the lag from record() to
the event being on the chain. At the end the queue must be empty and the chain gap-free.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit_verify import generate, temporary_database  # the same temporary database and chain loader

from portal import create_app
from portal.actors import SYSTEM
from portal.audit import sequencer
from portal.audit import services as audit
from portal.audit.models import AuditEvent, AuditPending
from portal.departments.models import Department
from portal.extensions import db
from portal.transaction import transaction


def one_use_case(n: int, audited: bool) -> float:
    started = time.perf_counter()
    with transaction():
        department = Department(slug=f"amt-{n}-{int(audited)}", name=f"Amt {n}")
        db.session.add(department)
        if audited:
            audit.record("department.saved", SYSTEM, target=department, name=department.name)
    return (time.perf_counter() - started) * 1000


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94]


def sequential(count: int) -> dict:
    plain: list[float] = []
    audited: list[float] = []
    for n in range(50):  # warm-up: connection pool, statement caches
        one_use_case(-n - 1, n % 2 == 0)
    for n in range(count):
        if n % 2:
            plain.append(one_use_case(n, False))
            audited.append(one_use_case(n, True))
        else:
            audited.append(one_use_case(n, True))
            plain.append(one_use_case(n, False))

    def summary(values: list[float]) -> dict:
        return {
            "mean": round(statistics.fmean(values), 3),
            "median": round(statistics.median(values), 3),
            "p95": round(p95(values), 3),
        }

    without, with_ = summary(plain), summary(audited)
    return {
        "transactions_each": count,
        "without_audit_ms": without,
        "with_audit_ms": with_,
        "added_ms": {key: round(with_[key] - without[key], 3) for key in without},
    }


class Watcher(threading.Thread):
    """Polls audit_event for events chained since the last look: when each became visible, minus its occurred_at
    (set in record(), a moment before the commit), is its lag. Polling every 20 ms (one query, autocommit, in the
    runs with and without audit alike): the lag is an upper bound, by up to 20 ms."""

    def __init__(self, app, every: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.app, self.every = app, every
        self.stop = threading.Event()
        self.lags_ms: list[float] = []

    def run(self) -> None:
        after = sa.bindparam("after")
        new = sa.select(AuditEvent.seq, AuditEvent.occurred_at).where(AuditEvent.seq > after).order_by(AuditEvent.seq)
        with self.app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            last = conn.execute(sa.select(sa.func.coalesce(sa.func.max(AuditEvent.seq), 0))).scalar()
            while True:
                stopping = self.stop.is_set()
                rows = conn.execute(new, {"after": last}).all()
                seen = datetime.now(UTC)
                for seq, occurred_at in rows:
                    self.lags_ms.append((seen - occurred_at).total_seconds() * 1000)
                    last = seq
                if stopping:
                    return
                time.sleep(self.every)


def concurrent(app, threads: int, per_thread: int, audited: bool, offset: int, job_seconds: float) -> dict:
    """Transactions per second with `threads` writers at once, the sequencer job and the lag watcher running."""
    barrier = threading.Barrier(threads + 1)
    stop = threading.Event()
    job_runs: list[int] = []

    def worker(t: int) -> None:
        with app.app_context():
            barrier.wait()
            for i in range(per_thread):
                one_use_case(offset + t * per_thread + i, audited)
            db.session.remove()

    def job() -> None:
        with app.app_context():
            while not stop.wait(job_seconds):
                job_runs.append(sequencer.sequence())

    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    helpers = [threading.Thread(target=job, daemon=True), Watcher(app)]
    for thread in [*workers, *helpers]:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    # The last commits' events are still on their way (the sequencer thread waits a moment to batch them).
    queue = sa.select(sa.func.count()).select_from(AuditPending)
    left_at_end = db.session.scalar(queue)
    while db.session.scalar(queue) and time.perf_counter() - started - elapsed < 15:
        db.session.rollback()
        time.sleep(0.005)
    drained_ms = (time.perf_counter() - started - elapsed) * 1000
    db.session.rollback()
    stop.set()
    watcher = helpers[1]
    assert isinstance(watcher, Watcher)
    watcher.stop.set()
    for thread in helpers:
        thread.join()
    result: dict = {"tx_per_s": round(threads * per_thread / elapsed)}
    if audited:
        lags = watcher.lags_ms
        result.update(
            {
                "events_seen_by_watcher": len(lags),
                "lag_ms": {
                    "mean": round(statistics.fmean(lags), 1),
                    "p95": round(p95(lags), 1),
                    "max": round(max(lags), 1),
                },
                "job_runs_chaining_something": sum(1 for n in job_runs if n),
                "queued_when_the_writers_finished": left_at_end,
                "queue_empty_after_ms": round(drained_ms, 1),
            }
        )
    return result


def chain_is_gap_free() -> bool:
    count, top = db.session.execute(sa.select(sa.func.count(), sa.func.max(AuditEvent.seq))).one()
    db.session.rollback()
    return count == (top or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--transactions", type=int, default=2000)
    parser.add_argument("--prefill", type=int, default=0, help="events in the chain before measuring")
    parser.add_argument("--threads", type=int, default=0, help="also measure throughput with this many writers")
    parser.add_argument("--job-seconds", type=float, default=1.0, help="the sequencer job's interval meanwhile")
    parser.add_argument(
        "--after-commit",
        choices=["thread", "inline"],
        default="thread",
        help="who chains after the commit: the process's sequencer thread (production) or the committing thread",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, temporary_database() as url:
        if args.prefill:
            generate(url, args.prefill, str(Path(tmp) / "key.pem"))
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AUDIT_SEQUENCE_AFTER_COMMIT": args.after_commit}, env="test")
        with app.app_context():
            report = {
                "prefilled_events": args.prefill,
                "after_commit": args.after_commit,
                **sequential(args.transactions),
            }
            # Other work on the machine shows up in every figure; the load average says how busy it was.
            report["load_average_1min"] = round(os.getloadavg()[0], 2)
            if args.threads:
                per_thread = max(1, args.transactions // args.threads)
                without = concurrent(app, args.threads, per_thread, False, 10**6, args.job_seconds)
                with_ = concurrent(app, args.threads, per_thread, True, 2 * 10**6, args.job_seconds)
                report["concurrent"] = {
                    "threads": args.threads,
                    "without_audit_tx_per_s": without.pop("tx_per_s"),
                    "with_audit_tx_per_s": with_.pop("tx_per_s"),
                    **with_,
                }
                report["concurrent"]["ratio"] = round(
                    report["concurrent"]["with_audit_tx_per_s"] / report["concurrent"]["without_audit_tx_per_s"], 3
                )
            sequencer.sequence()  # what the sequential part's last commit may have left to the thread
            report["chain_gap_free"] = chain_is_gap_free()
            db.session.remove()
            db.engine.dispose()
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
