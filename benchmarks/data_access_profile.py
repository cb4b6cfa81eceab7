"""One granted access through the API, in one process: CPU ms per access, SQL statements, and where the time goes.

    .venv/bin/python benchmarks/data_access_profile.py                 # 2,000 accesses, then a cProfile of 500
    .venv/bin/python benchmarks/data_access_profile.py --top 40

The steadier figure next to data_access.py's wrk ratio on a shared machine: process CPU time (not wall time) per
access, and the CPU the database's backends spent for it (read from /proc, so PostgreSQL must run on this machine,
whose cores serve both), through the Flask test client with the production settings, against a temporary PostgreSQL
database with the same world, agreement (limit 100,000 an hour) and machine client as data_access.py. The bare Flask
JSON view (benchmarks/bare_app.py) is timed the same way in the same run, so the ratio of the two CPU times is the
ceiling the access could reach against the bare view if nothing else (PostgreSQL, the network, waits) cost anything.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit_verify import SERVER_URL, temporary_database
from data_access import ACCESS_PATH, FIELDS, config, seed

TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu_s(engine: sa.Engine) -> float:
    """CPU seconds the database's current backends (the app's pool, the sequencer's) have used so far."""
    with engine.connect() as conn:
        pids = conn.scalars(
            sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).all()
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile, or the database runs elsewhere
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accesses", type=int, default=2000)
    parser.add_argument("--profile", type=int, default=500, help="accesses under cProfile")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--server", default=SERVER_URL)
    args = parser.parse_args()

    from bare_app import app as bare

    from portal import create_app
    from portal.extensions import db

    with temporary_database(args.server) as url, tempfile.TemporaryDirectory() as tmp:
        cfg = config(url, str(Path(tmp) / "audit-key.pem"), "http://127.0.0.1")
        seeded = seed(cfg, 0, 20)
        app = create_app(cfg, env="production")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {seeded['token']}"}
        subjects = seeded["subjects"]
        sent = 0

        def access() -> None:
            nonlocal sent
            sent += 1
            body = {
                "agreement": seeded["agreement"],
                "purpose": seeded["purpose"],
                "fields": FIELDS,
                "case_reference": f"VA-P-{sent}",
                "subject": subjects[sent % len(subjects)],
            }
            response = client.post(ACCESS_PATH, json=body, headers=headers)
            assert response.status_code == 200, response.data[:300]

        statements: list[str] = []
        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        for _ in range(50):
            access()
        monitor = sa.create_engine(url, poolclass=sa.pool.NullPool)
        statements.clear()
        backend = backend_cpu_s(monitor)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.accesses):
            access()
        cpu_ms = (time.process_time() - cpu) / args.accesses * 1000
        wall_ms = (time.perf_counter() - wall) / args.accesses * 1000
        backend_ms = (backend_cpu_s(monitor) - backend) / args.accesses * 1000
        monitor.dispose()
        per_access = len(statements) / args.accesses
        last = statements[-40:]

        bare_client = bare.test_client()
        for _ in range(200):
            bare_client.get("/")
        cpu = time.process_time()
        for _ in range(args.accesses * 5):
            bare_client.get("/")
        bare_ms = (time.process_time() - cpu) / (args.accesses * 5) * 1000

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.profile):
            access()
        profiler.disable()
        with app.app_context():
            db.engine.dispose()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    print("\n".join(s.split("\n")[0][:140] for s in last[-20:]))
    print(
        json.dumps(
            {
                "access_cpu_ms": round(cpu_ms, 3),
                "database_cpu_ms": round(backend_ms, 3),
                "access_wall_ms": round(wall_ms, 3),
                "statements_per_access": round(per_access, 2),
                "bare_cpu_ms": round(bare_ms, 4),
                "cpu_ratio": round(bare_ms / cpu_ms, 4),
                "load_avg": round(os.getloadavg()[0], 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
