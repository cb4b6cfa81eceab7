"""What benchmarks/data_access.py checks and samples in the database: each granted access logged once with its
audit event, the database sessions' waits while the API is loaded, the hourly limit's counter, and
`flask audit verify`."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import sqlalchemy as sa


def logged_accesses(url: str, token_id: int, prefix: str) -> dict[str, dict[str, int]]:
    """The client's log entries whose case reference starts with `prefix`: {outcome: {case_reference: n}}, and
    under "read_events" how many of the granted ones have a `dataaccess.record_read` audit event about the same
    person (the entry's audit event, by seq or key; the schema makes it one event per entry). Chains whatever the
    servers left queued first, as the worker's `audit.sequence` job would."""
    from portal.audit.sequencer import sequence

    engine = sa.create_engine(url)
    sequence(engine)
    found: dict[str, dict[str, int]] = {"granted": {}, "refused": {}, "read_events": {}}
    with engine.connect() as conn:
        for outcome, reference, n, events in conn.execute(
            sa.text(
                "SELECT l.outcome, l.case_reference, count(*), count(*) FILTER (WHERE e.action ="
                " 'dataaccess.record_read' AND e.subject_user_id = l.subject_user_id)"
                " FROM dataaccess_access_log l"
                " LEFT JOIN audit_event e ON e.seq = l.audit_seq OR e.event_key = l.audit_event_key"
                " WHERE l.actor_token_id = :t AND l.case_reference LIKE :p GROUP BY 1, 2"
            ),
            {"t": token_id, "p": prefix + "%"},
        ):
            found[outcome][reference] = n
            found["read_events"][reference] = events
    engine.dispose()
    return found


def check_round(url: str, token_id: int, found: dict[str, Any], answered: list[str], connections: int) -> dict:
    """Each 200 answer of the round has exactly one granted log entry (its case reference is unique); the only
    granted entries without an answer read are those wrk left in flight; nothing refused."""
    logged = logged_accesses(url, token_id, f"VA-{found['round']}-")
    granted = logged["granted"]
    unread = set(granted) - set(answered)
    return {
        "answers_200": found["access"]["ok"],
        "granted_log_entries": sum(granted.values()),
        "answers_with_exactly_one_entry": sum(granted.get(ref) == 1 for ref in answered),
        "granted_in_flight_at_stop": len(unread),
        "refused_log_entries": sum(logged["refused"].values()),
        "granted_with_read_audit_event": sum(logged["read_events"].values()),
        "ok": (
            sum(logged["read_events"].values()) == sum(granted.values())
            and len(answered) == len(set(answered)) == found["access"]["ok"]
            and all(granted.get(ref) == 1 for ref in answered)
            and all(n == 1 for n in granted.values())
            and len(unread) <= connections
            and not logged["refused"]
            and found["access"]["non_200"] == found["access"]["errors"] == 0
        ),
    }


class BackendStates(threading.Thread):
    """Samples what the portal's database sessions are doing meanwhile (pg_stat_activity, every 50 ms): running,
    waiting for a lock (the audit chain's is an advisory lock, a row's a transactionid lock), for the WAL flush
    of a commit, for the app inside a transaction (idle in transaction), or idle. Where the accesses' time goes.

        with BackendStates(url) as seen: ...      # seen: Counter of "state: wait_event_type/wait_event"
    """

    def __init__(self, url: str, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.dsn = url.replace("postgresql+psycopg://", "postgresql://")
        self.every = every
        self.seen: Counter[str] = Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stopping.wait(self.every):
                for state, kind, event, query in conn.execute(
                    "SELECT state, wait_event_type, wait_event, left(query, 32) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend'"
                ):
                    waiting = f"{kind}/{event}" + (f" ({query})" if kind == "Lock" else "")
                    self.seen[f"{state}: {waiting}" if kind else f"{state}: running"] += 1

    def __enter__(self) -> Counter[str]:
        self.start()
        return self.seen

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.join(timeout=10)


def rate_counter(url: str, token_id: int, reference: str, repeat: int = 20) -> dict[str, float]:
    """The client's hourly-limit counter once the run has filled the hour (dataaccess.services.rate_limit): how
    many minutes it holds and how many accesses, and what taking it costs (the access function's upsert, timed
    here in SQL and rolled back): the same however many accesses the hour holds."""
    engine = sa.create_engine(url)
    key = {"r": reference, "w": f"token:{token_id}"}
    take = sa.text(
        "INSERT INTO dataaccess_rate_counter (agreement_reference, reader, per_minute) VALUES (:r, :w, '{}')"
        " ON CONFLICT (agreement_reference, reader) DO UPDATE SET per_minute = dataaccess_rate_counter.per_minute"
        " RETURNING per_minute"
    )
    read = sa.text("SELECT per_minute FROM dataaccess_rate_counter WHERE agreement_reference = :r AND reader = :w")
    with engine.connect() as conn:
        stored = conn.execute(read, key).scalar_one_or_none() or {}
        started = time.perf_counter()
        for _ in range(repeat):
            conn.execute(take, key).one()
            conn.rollback()
        ms = (time.perf_counter() - started) / repeat * 1000
    engine.dispose()
    return {"minutes": len(stored), "accesses": sum(stored.values()), "take_ms": round(ms, 2)}


def audit_verify(cfg: dict[str, Any]) -> tuple[int, str]:
    from portal import create_app
    from portal.extensions import db

    app = create_app(cfg, env="test")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["audit", "verify", "--quiet"])
        db.engine.dispose()
    return result.exit_code, (result.output.strip().splitlines() or [""])[-1]
