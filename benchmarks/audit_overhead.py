"""What does the audit trail add to a transaction on PostgreSQL? (target: ≤ 2 ms mean and p95)

    .venv/bin/python benchmarks/audit_overhead.py                      # 2,000 transactions of each kind
    .venv/bin/python benchmarks/audit_overhead.py -n 500 --prefill 100000 --threads 4

Makes a temporary database (migrations), then runs N small use cases twice, interleaved so drift in the
machine's load hits both alike: insert one Department and commit, once without and once with
audit.record("department.saved", ...) in the same transaction. Reports mean and p95 per transaction and the
difference, i.e. the added cost of the audit event (chain lock, reading the chain's end, hashing, one INSERT).
--prefill loads a long chain first (to show the cost does not grow with the trail); --threads also measures
throughput with several concurrent writers, where the chain lock serialises the audited part.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit_verify import generate, temporary_database  # the same temporary database and chain loader

from portal import create_app
from portal.actors import SYSTEM
from portal.audit import services as audit
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


def concurrent(app, threads: int, per_thread: int, audited: bool, offset: int) -> float:
    """Transactions per second with `threads` writers at once."""
    barrier = threading.Barrier(threads + 1)

    def worker(t: int) -> None:
        with app.app_context():
            barrier.wait()
            for i in range(per_thread):
                one_use_case(offset + t * per_thread + i, audited)
            db.session.remove()

    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    return threads * per_thread / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--transactions", type=int, default=2000)
    parser.add_argument("--prefill", type=int, default=0, help="events in the chain before measuring")
    parser.add_argument("--threads", type=int, default=0, help="also measure throughput with this many writers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, temporary_database() as url:
        if args.prefill:
            generate(url, args.prefill, str(Path(tmp) / "key.pem"))
        app = create_app({"SQLALCHEMY_DATABASE_URI": url}, env="test")
        with app.app_context():
            report = {"prefilled_events": args.prefill, **sequential(args.transactions)}
            # Other work on the machine shows up in every figure; the load average says how busy it was.
            report["load_average_1min"] = round(os.getloadavg()[0], 2)
            if args.threads:
                per_thread = max(1, args.transactions // args.threads)
                report["concurrent"] = {
                    "threads": args.threads,
                    "without_audit_tx_per_s": round(concurrent(app, args.threads, per_thread, False, 10**6)),
                    "with_audit_tx_per_s": round(concurrent(app, args.threads, per_thread, True, 2 * 10**6)),
                }
            db.session.remove()
            db.engine.dispose()
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
