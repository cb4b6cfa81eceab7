"""What does the audit trail add to a transaction on PostgreSQL? (target: ≤ 2 ms mean and p95)

    .venv/bin/python benchmarks/audit_overhead.py                      # 2,000 transactions of each kind
    .venv/bin/python benchmarks/audit_overhead.py -n 500 --prefill 100000 --threads 4
    .venv/bin/python benchmarks/audit_overhead.py --processes 4 --threads 0 -n 8000   # as gunicorn's 4 workers

Makes a temporary database (migrations), then runs N small use cases twice, interleaved so drift in the
machine's load hits both alike: insert one Department and commit, once without and once with
audit.record("department.saved", ...) in the same transaction. Reports mean and p95 per transaction and the
difference, i.e. the added cost of the audit event. "With audit" includes chaining it: record() queues the event
in the use case's transaction and the sequencer chains it right after the commit, in the writer's own thread
(portal.audit.sequencer), so that time is inside the measured wall time.
--prefill loads a long chain first (to show the cost does not grow with the trail); --threads also measures
throughput with several concurrent writers, while the sequencer job runs in a thread of its own (every
--job-seconds; with --after-commit worker also the worker's queue poller) and a watcher polls audit_event for new
events every 20 ms to measure the lag from record() to the event being on the chain. --processes does the same
with writer processes, each with its own app, pool and sequencer thread, as gunicorn's sync workers are (threads
share one GIL with their sequencer thread; processes don't). At the end the queue must be empty and the chain
gap-free.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
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

    def worker(t: int) -> None:
        with app.app_context():
            barrier.wait()
            for i in range(per_thread):
                one_use_case(offset + t * per_thread + i, audited)
            db.session.remove()

    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    with Observers(app, job_seconds) as observers:
        for w in workers:
            w.start()
        barrier.wait()
        started = time.perf_counter()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - started
        observers.drain(started + elapsed)
    return observers.report(threads * per_thread / elapsed, audited)


def process_writer(url: str, after_commit: str, audited: bool, first: int, count: int, barrier, done) -> None:
    """One writer process, as a gunicorn worker is one: its own app, pool and sequencer thread, no GIL shared with
    the other writers. It warms up (pool, statement caches) before the common start."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AUDIT_SEQUENCE_AFTER_COMMIT": after_commit}, env="test")
    with app.app_context():
        for i in range(20):
            one_use_case(first + count + i, audited)
        barrier.wait()
        for i in range(count):
            one_use_case(first + i, audited)
        done.put(time.perf_counter())
        db.session.remove()
    # What this process's sequencer thread has not chained yet is left to the job in the main process (as a
    # worker's exit leaves it to the next run of `audit.sequence`); the drain below waits for it.


def concurrent_processes(
    app, url: str, after_commit: str, processes: int, per_process: int, audited: bool, offset: int, job_seconds: float
) -> dict:
    """The same as concurrent(), with `processes` writer processes instead of threads."""
    context = multiprocessing.get_context("spawn")
    barrier, done = context.Barrier(processes + 1), context.Queue()
    writers = [
        context.Process(
            target=process_writer,
            args=(url, after_commit, audited, offset + p * (per_process + 100), per_process, barrier, done),
        )
        for p in range(processes)
    ]
    with Observers(app, job_seconds) as observers:
        for w in writers:
            w.start()
        barrier.wait()
        started = time.perf_counter()
        finished = max(done.get(timeout=600) for _ in writers)  # perf_counter is system-wide on Linux
        observers.drain(finished)
        for w in writers:
            w.join()
    return observers.report(processes * per_process / (finished - started), audited)


class Observers:
    """The sequencer job (every job_seconds), the lag watcher and, with --after-commit worker, the worker's queue
    poller, running while the writers write."""

    def __init__(self, app, job_seconds: float) -> None:
        self.app, self.job_seconds = app, job_seconds
        self.stop = threading.Event()
        self.job_runs: list[int] = []
        self.job = threading.Thread(target=self.run_job, daemon=True)
        self.watcher = Watcher(app)
        self.left_at_end = 0
        self.drained_ms = 0.0
        self.poller: sequencer.QueuePoller | None = None

    def run_job(self) -> None:
        with self.app.app_context():
            while not self.stop.wait(self.job_seconds):
                self.job_runs.append(sequencer.sequence())

    def __enter__(self) -> Observers:
        self.job.start()
        self.watcher.start()
        self.poller = sequencer.start_queue_poller(self.app)
        return self

    def drain(self, writers_finished: float) -> None:
        """Waits (up to 15 s) until the last commits' events are chained: the sequencer threads wait a moment to
        batch them."""
        queue = sa.select(sa.func.count()).select_from(AuditPending)
        self.left_at_end = db.session.scalar(queue) or 0
        while db.session.scalar(queue) and time.perf_counter() - writers_finished < 15:
            db.session.rollback()
            time.sleep(0.005)
        self.drained_ms = (time.perf_counter() - writers_finished) * 1000
        db.session.rollback()

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.watcher.stop.set()
        if self.poller is not None:
            self.poller.stop.set()
            self.poller.join()
        self.job.join()
        self.watcher.join()

    def report(self, tx_per_s: float, audited: bool) -> dict:
        result: dict = {"tx_per_s": round(tx_per_s)}
        if audited:
            lags = self.watcher.lags_ms
            result.update(
                {
                    "events_seen_by_watcher": len(lags),
                    "lag_ms": {
                        "mean": round(statistics.fmean(lags), 1),
                        "p95": round(p95(lags), 1),
                        "max": round(max(lags), 1),
                    },
                    "job_runs_chaining_something": sum(1 for n in self.job_runs if n),
                    "queued_when_the_writers_finished": self.left_at_end,
                    "queue_empty_after_ms": round(self.drained_ms, 1),
                }
            )
        return result


def chain_is_gap_free() -> bool:
    count, top = db.session.execute(sa.select(sa.func.count(), sa.func.max(AuditEvent.seq))).one()
    db.session.rollback()
    return count == (top or 0)


def compare(unit: str, writers: int, without: dict, with_: dict) -> dict:
    result = {
        unit: writers,
        "without_audit_tx_per_s": without.pop("tx_per_s"),
        "with_audit_tx_per_s": with_.pop("tx_per_s"),
        **with_,
    }
    result["ratio"] = round(result["with_audit_tx_per_s"] / result["without_audit_tx_per_s"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--transactions", type=int, default=2000)
    parser.add_argument("--prefill", type=int, default=0, help="events in the chain before measuring")
    parser.add_argument("--threads", type=int, default=0, help="also measure throughput with this many writers")
    parser.add_argument(
        "--processes", type=int, default=0, help="also measure throughput with this many writer processes"
    )
    parser.add_argument("--job-seconds", type=float, default=1.0, help="the sequencer job's interval meanwhile")
    parser.add_argument(
        "--after-commit",
        choices=["thread", "inline", "worker"],
        default="thread",
        help="who chains after the commit: the process's sequencer thread (the default), the committing thread (the"
        " tests' setting) or the worker's queue poller (started in this process, as `flask worker` would)",
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
                report["concurrent"] = compare(
                    "threads",
                    args.threads,
                    *(
                        concurrent(app, args.threads, per_thread, audited, offset, args.job_seconds)
                        for audited, offset in ((False, 10**6), (True, 2 * 10**6))
                    ),
                )
            if args.processes:
                per_process = max(1, args.transactions // args.processes)
                report["concurrent_processes"] = compare(
                    "processes",
                    args.processes,
                    *(
                        concurrent_processes(
                            app, url, args.after_commit, args.processes, per_process, audited, offset, args.job_seconds
                        )
                        for audited, offset in ((False, 3 * 10**6), (True, 4 * 10**6))
                    ),
                )
            sequencer.sequence()  # what the sequential part's last commit may have left to the thread
            report["chain_gap_free"] = chain_is_gap_free()
            db.session.remove()
            db.engine.dispose()
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
