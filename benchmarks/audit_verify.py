"""How long does `flask audit verify` take for a million events on PostgreSQL? (target: ≤ 30 s)

    .venv/bin/python benchmarks/audit_verify.py                 # 10^6 events
    .venv/bin/python benchmarks/audit_verify.py --events 50000  # a quick run

Makes a temporary database, builds the schema with the migrations, generates the chain in Python with the
writer's own reference functions (portal.audit.chain.event_payload / chain_hash, so the fast verifier is checked
against the writer at scale) and loads it with COPY, adds signed checkpoints, VACUUM ANALYZEs, then runs
`flask audit verify` through Flask's CLI runner and times it. The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

SERVER_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")

ACTIONS = [
    ("account.login", {"method": "password"}),
    ("account.profile_updated", {"fields": ["display_name", "language"]}),
    ("department.saved", {"name": "Bürgeramt Süd"}),
    ("token.used", {"scope": "appointments:read", "endpoint": "/api/v1/termine"}),
    ("role.granted", {"role": "clerk"}),
]


@contextmanager
def temporary_database(server_url: str = SERVER_URL) -> Iterator[str]:
    """A fresh PostgreSQL database with the migrated schema; dropped on exit."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.schema_migrations import init_migrations

    name = f"sp_bench_{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = re.sub(r"/[^/]*$", f"/{name}", server_url)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url}, env="test")
        init_migrations(app)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield url
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def generate(url: str, count: int, key_file: str) -> float:
    """COPY `count` chained events (and checkpoints at the half and the end); returns seconds taken."""
    import psycopg

    from portal.audit.chain import GENESIS_HASH, canonical_json, chain_hash, event_payload
    from portal.audit.checkpoints import generate_key_file, key_id_of, statement

    started = time.perf_counter()
    key = generate_key_file(key_file)
    key_id = key_id_of(key.public_key())
    at = datetime(2026, 1, 1, tzinfo=UTC)
    prev = GENESIS_HASH
    checkpoint_at = {count // 2, count}
    checkpoints = []
    columns = (
        "seq, occurred_at, actor_type, actor_id, on_behalf_of, action, target_type, target_id, "
        "subject_user_id, details, request_id, ip, outcome, prev_hash, hash"
    )
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY audit_event ({columns}) FROM STDIN") as copy:
            for seq in range(1, count + 1):
                action, details = ACTIONS[seq % len(ACTIONS)]
                at += timedelta(microseconds=1003)
                user = seq % 5000 + 1
                fields = {
                    "seq": seq,
                    "occurred_at": at,
                    "actor_type": "user" if seq % 7 else "system",
                    "actor_id": str(user) if seq % 7 else None,
                    "on_behalf_of": "organisation:3" if seq % 11 == 0 else None,
                    "action": action,
                    "target_type": "user_account",
                    "target_id": str(user),
                    "subject_user_id": user,
                    "details": canonical_json({**details, "note": f"Ereignis „{seq}“\n"}),
                    "request_id": uuid.UUID(int=seq).hex,
                    "ip": f"203.0.113.{seq % 250}",
                    "outcome": "success" if seq % 13 else "failure",
                }
                digest = chain_hash(prev, event_payload(**fields))
                copy.write_row((*fields.values(), prev, digest))
                prev = digest
                if seq in checkpoint_at:
                    checkpoints.append((seq, digest))
        with conn.cursor() as cur:
            for seq, digest in checkpoints:
                signed_at = at + timedelta(seconds=1)
                signature = base64.b64encode(key.sign(statement(seq, digest, signed_at))).decode()
                cur.execute(
                    "INSERT INTO audit_checkpoint (seq, hash, signed_at, key_id, signature) VALUES (%s,%s,%s,%s,%s)",
                    (seq, digest, signed_at, key_id, signature),
                )
        conn.commit()
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        # A live database has its hint bits set and statistics gathered; a fresh bulk load has neither.
        conn.execute("VACUUM ANALYZE audit_event")
    return time.perf_counter() - started


def run_verify(url: str, key_file: str, batch_size: int) -> tuple[int, float, str]:
    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AUDIT_SIGNING_KEY_FILE": key_file}, env="test")
    runner = app.test_cli_runner()
    started = time.perf_counter()
    result = runner.invoke(args=["audit", "verify", "--quiet", "--batch-size", str(batch_size)])
    elapsed = time.perf_counter() - started
    with app.app_context():
        from portal.extensions import db

        db.engine.dispose()
    return result.exit_code, elapsed, result.output.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="verify runs (the first one warms the cache)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, temporary_database() as url:
        key_file = str(Path(tmp) / "audit-key.pem")
        generated = generate(url, args.events, key_file)
        print(f"generated and loaded {args.events} events in {generated:.1f} s", file=sys.stderr)
        timings = []
        for run in range(1, args.runs + 1):
            code, elapsed, output = run_verify(url, key_file, args.batch_size)
            print(f"run {run}: exit {code}, {elapsed:.2f} s: {output}", file=sys.stderr)
            if code != 0:
                raise SystemExit(f"verify failed: {output}")
            timings.append(elapsed)
        report = {
            "events": args.events,
            "batch_size": args.batch_size,
            "verify_seconds": [round(t, 2) for t in timings],
            "best_events_per_second": round(args.events / min(timings)),
            "target_seconds_per_million": 30,
        }
        print(json.dumps(report))


if __name__ == "__main__":
    main()
