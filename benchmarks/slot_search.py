"""How fast is the public slot search with 100,000 bookings, next to a bare Flask view? (targets: warm ≥ 30 %,
cold ≥ 10 % of the bare view's req/s, p95 ≤ 25 ms)

    .venv/bin/python benchmarks/slot_search.py                          # 100,000 bookings, 2 rounds of 10 s
    .venv/bin/python benchmarks/slot_search.py --rounds 3 --changes-per-second 1
    .venv/bin/python benchmarks/slot_search.py --bookings 20000 --seconds 5 --rounds 1   # a quick run

Makes a temporary PostgreSQL database (migrations), one location with 10 counters (Mon–Fri 8–12 and 13–16, a
10-minute grid) and loads BOOKINGS bookings with their booking items and seat claims by COPY, spread over the
days around today so that about half lie ahead (each seat about 55 % taken). Then it starts four gunicorns with
the same settings (4 sync workers each) on loopback: the bare Flask view (benchmarks/bare_app.py), and the portal
(production config, rate limits off) three times: with the search cache shared through Redis
(APPOINTMENTS_SEARCH_CACHE_URL, a key prefix of its own), with the per-worker cache only, and with the cache off
(APPOINTMENTS_SEARCH_CACHE_SIZE=0: every request computes, as the first search after each change does). wrk
(2 threads, 16 connections, as ../shared/ANCHORS.md defines the bare endpoint) measures, interleaved per round:
the bare view, GET /api/v1/appointments/slots for 28 days repeated on the Redis server (warm) and on the
per-worker server (warm, local), the same search on the uncached server (cold), both cached servers again while
a thread makes the location change CHANGES_PER_SECOND times a second (churn: the availability version raised in
the database and, for the Redis server, the location's token replaced, as a booking's commit does), and the
bare view again. Every figure is a ratio to the mean of the two bare runs around it. It also counts the SQL
statements one search issues and times single searches in-process (wall and CPU time of this process), with and
without Redis. The database and the Redis keys are removed afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import sqlalchemy as sa
from audit_verify import SERVER_URL, temporary_database
from serving import WRK_SCRIPT, free_port, portal_config, start_gunicorn, wrk

ROOT = Path(__file__).resolve().parent.parent
COUNTERS = 10
SLOT_MINUTES = 10
HOURS = ((clock(8), clock(12)), (clock(13), clock(16)))
FILL = 0.55  # share of seat units taken on a day with bookings
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _one(cursor: Any) -> Any:
    row = cursor.fetchone()
    assert row is not None
    return row[0]


def seed(url: str, bookings: int, rng: random.Random) -> dict:
    """The location, its hours and service, and `bookings` bookings (1–2 units) with seat claims, by COPY."""
    import psycopg

    from appointments.slots import Period as SlotPeriod
    from appointments.slots import is_public_holiday, local_days, opening_intervals

    started = time.perf_counter()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    today = datetime.now(UTC).date()
    periods = [SlotPeriod(d, opens, closes) for d in range(5) for opens, closes in HOURS]
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO department (slug, name, created_at) VALUES ('buergeramt', 'Bürgeramt', now()) RETURNING id"
        )
        department_id = _one(cur)
        ids = {}
        for name in ("Bürgerbüro Mitte", "Bürgerbüro Leer"):
            cur.execute(
                "INSERT INTO location (department_id, name, street, postcode, city, latitude, longitude, notes)"
                " VALUES (%s, %s, 'Rathausplatz 1', '01067', 'Musterstadt', 51.05, 13.74, '') RETURNING id",
                (department_id, name),
            )
            ids[name] = _one(cur)
        cur.execute(
            "INSERT INTO catalogue_service (name, description, department_id, active) VALUES"
            " ('Personalausweis beantragen', '', %s, true) RETURNING id",
            (department_id,),
        )
        service_id = _one(cur)
        for location_id in ids.values():
            cur.execute(
                "INSERT INTO appointment_location (location_id, active, counters, slot_minutes, horizon_days,"
                " min_notice_minutes, buffer_minutes, held_back_seats, max_open_per_email, cancel_cooldown_minutes,"
                " captcha_required, reminder_hours, waitlist_offer_minutes, search_rate_limit, booking_rate_limit)"
                " VALUES (%s, true, %s, %s, 365, 0, 0, 0, 2, 0, false, 24, 120, '120/minute', '10/hour')",
                (location_id, COUNTERS, SLOT_MINUTES),
            )
            cur.execute(
                "INSERT INTO appointment_offered_service (location_id, catalogue_service_id, duration_minutes,"
                " max_quantity, active) VALUES (%s, %s, %s, 5, true)",
                (location_id, service_id, SLOT_MINUTES),
            )
            for weekday in range(5):
                for opens, closes in HOURS:
                    cur.execute(
                        "INSERT INTO appointment_opening_period (location_id, weekday, opens, closes)"
                        " VALUES (%s, %s, %s, %s)",
                        (location_id, weekday, opens, closes),
                    )
        location_id = ids["Bürgerbüro Mitte"]
        # Bookings per open day at FILL with 1.5 units on average; start far enough back that about half of
        # them lie in the future.
        per_day = COUNTERS * 42 * FILL / 1.5
        open_days_needed = int(bookings / per_day) + 1
        first_day = today - timedelta(days=int(open_days_needed * 7 / 5 / 2))
        booking_rows, item_rows, claim_rows = io.StringIO(), io.StringIO(), io.StringIO()
        made = claims = 0
        created = datetime.now(UTC).isoformat()
        for day in local_days(first_day, first_day + timedelta(days=4 * 365)):
            if made >= bookings:
                break
            if is_public_holiday(day):
                continue
            for interval in opening_intervals(day, periods):
                units = int((interval.closes - interval.opens) / timedelta(minutes=SLOT_MINUTES))
                for seat in range(COUNTERS):
                    unit = 0
                    while unit < units and made < bookings:
                        length = 2 if rng.random() < 0.5 else 1
                        if unit + length > units or rng.random() > FILL:
                            unit += 1
                            continue
                        made += 1
                        start = interval.opens + timedelta(minutes=unit * SLOT_MINUTES)
                        end = start + timedelta(minutes=length * SLOT_MINUTES)
                        status = "served" if day < today else "confirmed"
                        token = hashlib.sha256(secrets.token_bytes(16)).hexdigest()
                        booking_rows.write(
                            f"{made}\tT-{start.year}-{made:07d}\t{token[:32]}@bench\t{token}\t{location_id}\tonline\t"
                            f"{status}\t{start.isoformat()}\t{end.isoformat()}\tErika Mustermann\t"
                            f"erika{made}@example.org\tde\t{created}\t0\n"
                        )
                        item_rows.write(f"{made}\t{service_id}\t{length}\t{SLOT_MINUTES}\n")
                        for n in range(length):
                            claims += 1
                            at = start + timedelta(minutes=n * SLOT_MINUTES)
                            claim_rows.write(f"{location_id}\t{at.isoformat()}\t{seat}\t{made}\n")
                        unit += length
        for table, columns, rows in (
            (
                "appointment_booking",
                "id, reference, uid, manage_token_hash, location_id, kind, status, starts_at, ends_at, name, email,"
                " language, created_at, sequence",
                booking_rows,
            ),
            ("appointment_booking_item", "booking_id, catalogue_service_id, quantity, duration_minutes", item_rows),
            ("appointment_seat_claim", "location_id, unit_start, seat, booking_id", claim_rows),
        ):
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(rows.getvalue())
        cur.execute("SELECT setval('appointment_booking_id_seq', %s)", (made,))
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {
        "location_id": location_id,
        "empty_location_id": ids["Bürgerbüro Leer"],
        "service_id": service_id,
        "bookings": made,
        "seat_claims": claims,
        "first_booking_day": first_day.isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def config(url: str, key_file: str, **extra: Any) -> dict[str, Any]:
    """Production settings (the payments settings from the webhooks benchmark: production refuses to start
    without a payment provider; nothing is paid here) with rate limits off."""
    return {**portal_config(url, "http://127.0.0.1:9", key_file, "http://127.0.0.1"), **extra}


def statements_per_search(cfg: dict[str, Any], seeded: dict, first: date, last: date) -> dict:
    """SQL statements one slot search issues, counted in-process, for the busy and the empty location: cold
    (caches emptied first: what every search after a change costs) and warm (the same search again)."""
    from portal import create_app
    from portal.extensions import db

    app = create_app(cfg, env="test")
    counts = {}
    with app.app_context():
        client = app.test_client()
        seen: list[str] = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
        for label, location_id in (
            ("100k_bookings", seeded["location_id"]),
            ("no_bookings", seeded["empty_location_id"]),
        ):
            query = f"service={seeded['service_id']}&location={location_id}&from={first}&to={last}"
            client.get(f"/api/v1/appointments/slots?{query}")  # warm-up (first connection, rate limit read)
            found = {}
            for kind in ("cold", "warm"):
                if kind == "cold":
                    forget(app, location_id)
                seen.clear()
                response = client.get(f"/api/v1/appointments/slots?{query}")
                assert response.status_code == 200, response.data
                found[kind] = len(seen)
            counts[label] = {**found, "slots": len(response.get_json()["slots"])}
        db.engine.dispose()
    return counts


def forget(app: Any, location_id: int) -> None:
    """Empty this worker's cache and, with Redis, replace the location's token: the next search computes."""
    from appointments.services import search_cache

    app.extensions.get("appointments_search_cache", {}).clear()
    shared = search_cache.shared_cache(app)
    if shared is not None:
        shared.publish([location_id])


def in_process_ms(cfg: dict[str, Any], seeded: dict, first: date, last: date, repeat: int = 200) -> dict:
    """Mean wall and CPU milliseconds (CPU: this process only, not PostgreSQL's or Redis's), one at a time in
    this process (no HTTP server, no concurrency): where a search's time goes. CPU time is the steadier
    figure on a shared machine. The test client's own overhead is in every request figure."""
    from appointments import slots
    from appointments.services import availability, availability_rows
    from portal import create_app
    from portal.extensions import db

    app = create_app(cfg, env="test")
    location_id, items = seeded["location_id"], [(seeded["service_id"], 1)]
    query = f"/api/v1/appointments/slots?service={seeded['service_id']}&location={location_id}&from={first}&to={last}"
    begins, ends = slots.day_bounds(first)[0], slots.day_bounds(last)[1]
    now = datetime.now(UTC)

    def mean(action) -> list[float]:
        action()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(repeat):
            action()
            db.session.rollback()
        return [
            round((timer() - start) / repeat * 1000, 3)
            for timer, start in ((time.perf_counter, wall), (time.process_time, cpu))
        ]

    def cold(action):
        def run():
            forget(app, location_id)
            return action()

        return run

    with app.app_context():
        client = app.test_client()
        etag = client.get(query).headers["ETag"]
        found = {
            "healthz_request": mean(lambda: client.get("/healthz")),
            "slots_request_warm": mean(lambda: client.get(query)),
            "slots_request_304": mean(lambda: client.get(query, headers={"If-None-Match": etag})),
            "slots_request_cold": mean(cold(lambda: client.get(query))),
            "search_service_call_warm": mean(lambda: availability.search(location_id, items, first, last)),
            "search_service_call_cold": mean(cold(lambda: availability.search(location_id, items, first, last))),
            "claims_query": mean(lambda: availability_rows.occupancy(location_id, begins, ends, now, COUNTERS)),
        }
        db.engine.dispose()
    return {"[wall, cpu]": found}


@contextmanager
def churning(url: str, location_id: int, per_second: float, shared: Any) -> Iterator[list[int]]:
    """Change the location `per_second` times a second meanwhile, as bookings and cancellations there would:
    the availability version raised in the database, then the location's Redis token replaced (what
    search_cache publishes after such a commit). Every cached answer goes stale that often. Yields [changes]."""
    import psycopg

    stop = threading.Event()
    done = [0]

    def run() -> None:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            while not stop.wait(1 / per_second):
                conn.execute(
                    "UPDATE appointment_location SET availability_version = availability_version + 1"
                    " WHERE location_id = %s",
                    (location_id,),
                )
                shared.publish([location_id])
                done[0] += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join(timeout=10)


def remove_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads, the same for the bare view")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections, the same for the bare view")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--server", default=SERVER_URL)
    parser.add_argument(
        "--changes-per-second",
        type=float,
        default=10,
        help="churn runs: how often the location changes while searching (0: no churn runs)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")

    rng = random.Random(20261127)
    prefix = f"bench-slots:{uuid.uuid4().hex[:10]}"
    with temporary_database(args.server) as url, tempfile.TemporaryDirectory() as tmp:
        key_file = str(Path(tmp) / "audit-key.pem")
        shared_cfg = config(
            url, key_file, APPOINTMENTS_SEARCH_CACHE_URL=REDIS_URL, APPOINTMENTS_SEARCH_CACHE_PREFIX=prefix
        )
        local_cfg = config(url, key_file)
        cold_cfg = config(url, key_file, APPOINTMENTS_SEARCH_CACHE_SIZE=0)
        try:
            seeded = seed(url, args.bookings, rng)
            print(json.dumps({"seeded": seeded}), flush=True)
            today = datetime.now(UTC).date()
            first, last = today + timedelta(days=1), today + timedelta(days=28)
            statements = {
                "redis": statements_per_search(shared_cfg, seeded, first, last),
                "per_worker": statements_per_search(local_cfg, seeded, first, last),
            }
            print(json.dumps({"statements_per_search": statements}), flush=True)
            timings = {
                "redis": in_process_ms(shared_cfg, seeded, first, last),
                "per_worker": in_process_ms(local_cfg, seeded, first, last),
            }
            print(json.dumps({"in_process_ms": timings, "load_avg": round(os.getloadavg()[0], 1)}), flush=True)
            rounds = measure_http(args, seeded, first, last, url, prefix, Path(tmp), shared_cfg, local_cfg, cold_cfg)
        finally:
            remove_keys(prefix)
    print(json.dumps({"summary": summary(args, seeded, rounds, statements, timings)}, indent=2))


def measure_http(args, seeded, first, last, url, prefix, tmp: Path, shared_cfg, local_cfg, cold_cfg) -> list[dict]:
    from appointments.services.search_cache import SharedCache

    script = str(tmp / "report.lua")
    Path(script).write_text(WRK_SCRIPT)
    ports = {name: free_port() for name in ("bare", "redis", "local", "cold")}
    base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    query = f"service={seeded['service_id']}&location={seeded['location_id']}&from={first}&to={last}"
    slots = {name: f"{base[name]}/api/v1/appointments/slots?{query}" for name in ("redis", "local", "cold")}
    servers = []
    rounds: list[dict] = []
    log_path = tmp / "gunicorn.log"
    with log_path.open("wb") as log:
        try:
            servers.append(start_gunicorn("bare_app:app", ports["bare"], args.workers, log, "/"))
            for name, cfg in (("redis", shared_cfg), ("local", local_cfg), ("cold", cold_cfg)):
                spec = f"portal:create_app({cfg!r}, 'production')"
                servers.append(start_gunicorn(spec, ports[name], args.workers, log, "/healthz"))
            answers = {name: httpx.get(slots[name], timeout=30) for name in slots}
            if any(answer.status_code != 200 for answer in answers.values()):
                raise RuntimeError(f"slot search answered {[a.status_code for a in answers.values()]}")
            if len({answer.content for answer in answers.values()}) != 1:
                raise RuntimeError("the three servers answer differently")
            found = answers["redis"].json()["slots"]
            print(json.dumps({"response": {"slots": len(found), "bytes": len(answers["redis"].content)}}), flush=True)
            for _ in range(5 * args.workers):  # every worker's imports and database connection
                httpx.get(f"{base['bare']}/")
                for name in slots:
                    httpx.get(slots[name], timeout=30)
            shared = SharedCache(REDIS_URL, prefix)
            run = lambda target: wrk(target, args.seconds, script, args.threads, args.connections)  # noqa: E731
            for n in range(args.rounds):
                result: dict[str, Any] = {"round": n + 1, "load_avg": round(os.getloadavg()[0], 1)}
                bare_before = run(f"{base['bare']}/")
                result["warm_redis"] = run(slots["redis"])
                result["warm_local"] = run(slots["local"])
                result["cold"] = run(slots["cold"])
                if args.changes_per_second > 0:
                    for name in ("redis", "local"):
                        with churning(url, seeded["location_id"], args.changes_per_second, shared) as changes:
                            result[f"churn_{name}"] = {**run(slots[name]), "changes": changes[0]}
                bare_after = run(f"{base['bare']}/")
                bare = (bare_before["req_per_s"] + bare_after["req_per_s"]) / 2
                result["bare"] = [bare_before, bare_after]
                for value in list(result.values()):
                    if isinstance(value, dict):
                        value["ratio"] = round(value["req_per_s"] / bare, 4)
                result["load_avg_after"] = round(os.getloadavg()[0], 1)
                rounds.append(result)
                print(json.dumps(result), flush=True)
        finally:
            for process in servers:
                process.terminate()
                process.wait(timeout=30)
    errors = [line for line in log_path.read_text(errors="replace").splitlines() if '"level": "ERROR"' in line]
    for line in errors[:10]:
        print(line)
    return rounds


def summary(args, seeded, rounds, statements, timings) -> dict:
    kinds = [k for k in ("warm_redis", "warm_local", "cold", "churn_redis", "churn_local") if k in rounds[0]]
    return {
        "bookings": seeded["bookings"],
        "seat_claims": seeded["seat_claims"],
        "wrk": f"-t{args.threads} -c{args.connections}, {args.seconds} s per run, {args.workers} sync workers",
        "load_avg": [r["load_avg"] for r in rounds],
        "bare_req_per_s": [[b["req_per_s"] for b in r["bare"]] for r in rounds],
        **{
            kind: {
                "req_per_s": [r[kind]["req_per_s"] for r in rounds],
                "ratio": [r[kind]["ratio"] for r in rounds],
                "p50_ms": [r[kind]["p50_ms"] for r in rounds],
                "p95_ms": [r[kind]["p95_ms"] for r in rounds],
                "errors": [r[kind]["errors"] for r in rounds],
            }
            for kind in kinds
        },
        "statements_per_search": statements,
        "in_process_ms": timings,
        "targets": {"warm ratio": ">= 0.30", "cold ratio": ">= 0.10", "p95_ms": "<= 25"},
    }


if __name__ == "__main__":
    main()
