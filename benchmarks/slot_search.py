"""How fast is the public slot search with 100,000 bookings? (targets: ≥ 30 % of /healthz req/s, p95 ≤ 25 ms)

    .venv/bin/python benchmarks/slot_search.py                          # 100,000 bookings, 2 rounds of 10 s
    .venv/bin/python benchmarks/slot_search.py --rounds 3 --changes-per-second 1
    .venv/bin/python benchmarks/slot_search.py --bookings 20000 --seconds 5 --rounds 1   # a quick run

Makes a temporary PostgreSQL database (migrations), one location with 10 counters (Mon–Fri 8–12 and 13–16, a
10-minute grid) and loads BOOKINGS bookings with their booking items and seat claims by COPY, spread over the
days around today so that about half lie ahead (each seat about 55 % taken). Then it starts two gunicorns (4 sync
workers each, rate limits off) on loopback, one as configured (the per-worker search cache on) and one with the
cache switched off (APPOINTMENTS_SEARCH_CACHE_SIZE=0), and measures with wrk, interleaved: the bare /healthz
endpoint (one `SELECT 1`), GET /api/v1/appointments/slots for 28 days repeated (warm: answered from the cache),
the same search on the uncached server (cold: every request computes the answer, as after each booking), and
the cached search again while a thread raises the location's availability version CHANGES_PER_SECOND times a
second (churn: as if bookings and cancellations came in that often). It also counts the SQL statements one slot
search issues, in-process with a before_cursor_execute listener, for the busy location and for an empty one,
cold and warm. The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from audit_verify import SERVER_URL, temporary_database

ROOT = Path(__file__).resolve().parent.parent
COUNTERS = 10
SLOT_MINUTES = 10
HOURS = ((clock(8), clock(12)), (clock(13), clock(16)))
FILL = 0.55  # share of seat units taken on a day with bookings
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency.max))
end
"""


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
                "INSERT INTO location (department_id, name, street, postcode, city, latitude, longitude, opening_hours)"
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int, *, cache: bool = True) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "STADTPORTAL_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "AUDIT_SIGNING_KEY_FILE": str(Path(tempfile.gettempdir()) / f"bench-audit-{port}.pem"),
    }
    # The factory is called with literal arguments: the benchmark switches rate limits off.
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "portal:create_app({'RATELIMIT_ENABLED': False%s})"
        % ("" if cache else ", 'APPOINTMENTS_SEARCH_CACHE_SIZE': 0"),
    ]
    # The app logs one JSON line per request; keep them out of the report (the file is kept for a look).
    log = open(Path(tempfile.gettempdir()) / f"bench-slot-search-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def get(url: str) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wrk(url: str, seconds: int, connections: int, script: str) -> dict:
    output = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", output)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    requests, duration_us, p50, p95, p99, socket_errors, status_errors, worst = map(int, match.groups())
    return {
        "requests_per_s": round(requests / (duration_us / 1e6), 1),
        "p50_ms": round(p50 / 1000, 2),
        "p95_ms": round(p95 / 1000, 2),
        "p99_ms": round(p99 / 1000, 2),
        "max_ms": round(worst / 1000, 2),
        "socket_errors": socket_errors,
        "non_2xx": status_errors,
    }


def statements_per_search(url: str, seeded: dict, first: date, last: date) -> dict:
    """SQL statements one slot search issues, counted in-process, for the busy and the empty location: cold
    (the cache emptied first: what every search after a change costs) and warm (the same search again)."""
    from portal import create_app
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False}, env="test")
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
            client.get(f"/api/v1/appointments/slots?{query}")  # warm-up (first connection)
            found = {}
            for kind in ("cold", "warm"):
                if kind == "cold":
                    app.extensions["appointments_search_cache"].clear()
                seen.clear()
                response = client.get(f"/api/v1/appointments/slots?{query}")
                assert response.status_code == 200, response.data
                found[kind] = len(seen)
            counts[label] = {**found, "slots": len(response.get_json()["slots"])}
        db.engine.dispose()
    return counts


def in_process_ms(url: str, seeded: dict, first: date, last: date, repeat: int = 200) -> dict:
    """Mean milliseconds, one at a time in this process (no HTTP server, no concurrency): where a search's
    time goes. The test client's own overhead is in both request figures."""
    from appointments import slots
    from appointments.services import availability
    from portal import create_app
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False}, env="test")
    location_id, items = seeded["location_id"], [(seeded["service_id"], 1)]
    query = f"/api/v1/appointments/slots?service={seeded['service_id']}&location={location_id}&from={first}&to={last}"
    begins, ends = slots.day_bounds(first)[0], slots.day_bounds(last)[1]
    now = datetime.now(UTC)

    def mean(action) -> float:
        action()
        started = time.perf_counter()
        for _ in range(repeat):
            action()
            db.session.rollback()
        return round((time.perf_counter() - started) / repeat * 1000, 2)

    with app.app_context():
        client = app.test_client()
        etag = client.get(query).headers["ETag"]
        cache = app.extensions.setdefault("appointments_search_cache", {})

        def cold(action):
            def run():
                cache.clear()
                return action()

            return run

        found = {
            "healthz_request": mean(lambda: client.get("/healthz")),
            "slots_request_warm": mean(lambda: client.get(query)),
            "slots_request_304": mean(lambda: client.get(query, headers={"If-None-Match": etag})),
            "slots_request_cold": mean(cold(lambda: client.get(query))),
            "search_service_call_warm": mean(lambda: availability.search(location_id, items, first, last)),
            "search_service_call_cold": mean(cold(lambda: availability.search(location_id, items, first, last))),
            "claims_query": mean(lambda: availability._occupancy(location_id, begins, ends, now, COUNTERS)),
        }
        db.engine.dispose()
    return found


@contextmanager
def churning(url: str, location_id: int, per_second: float) -> Iterator[list[int]]:
    """Raise the location's availability version `per_second` times a second meanwhile, as bookings and
    cancellations there would: every worker's cached answer goes stale that often. Yields [times raised]."""
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
                done[0] += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved healthz/slots pairs")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--server", default=SERVER_URL)
    parser.add_argument(
        "--changes-per-second",
        type=float,
        default=10,
        help="churn run: how often the location's availability version is raised while searching (0: no churn run)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")

    rng = random.Random(20261127)
    with temporary_database(args.server) as url, tempfile.TemporaryDirectory() as tmp:
        seeded = seed(url, args.bookings, rng)
        print(json.dumps({"seeded": seeded}), flush=True)
        today = datetime.now(UTC).date()
        first, last = today + timedelta(days=1), today + timedelta(days=28)
        statements = statements_per_search(url, seeded, first, last)
        print(json.dumps({"statements_per_search": statements}), flush=True)
        timings = in_process_ms(url, seeded, first, last)
        print(json.dumps({"in_process_ms": timings, "load_avg": round(os.getloadavg()[0], 1)}), flush=True)

        script = str(Path(tmp) / "report.lua")
        Path(script).write_text(WRK_SCRIPT)
        port, cold_port = free_port(), free_port()
        server = start_gunicorn(url, port, args.workers)
        cold_server = start_gunicorn(url, cold_port, args.workers, cache=False)
        try:
            base = f"http://127.0.0.1:{port}"
            query = f"service={seeded['service_id']}&location={seeded['location_id']}&from={first}&to={last}"
            slots_url = f"{base}/api/v1/appointments/slots?{query}"
            cold_url = f"http://127.0.0.1:{cold_port}/api/v1/appointments/slots?{query}"
            status, body = get(slots_url)
            if status != 200:
                raise RuntimeError(f"slot search answered {status}: {body[:300]!r}")
            if get(cold_url) != (200, body):
                raise RuntimeError("the uncached server answers differently")
            found = json.loads(body)["slots"]
            print(json.dumps({"response": {"slots": len(found), "bytes": len(body), "first": found[:1]}}), flush=True)
            for _ in range(20):  # warm every worker's connection pool and imports
                get(f"{base}/healthz")
                get(slots_url)
                get(cold_url)
            rounds = []
            for n in range(args.rounds):
                load_before = os.getloadavg()[0]
                healthz = wrk(f"{base}/healthz", args.seconds, args.connections, script)
                search = wrk(slots_url, args.seconds, args.connections, script)
                uncached = wrk(cold_url, args.seconds, args.connections, script)
                found_round = {
                    "round": n + 1,
                    "load_avg": round(load_before, 1),
                    "healthz": healthz,
                    "slots_28_days_warm": search,
                    "slots_28_days_cold": uncached,
                    "ratio_warm": round(search["requests_per_s"] / healthz["requests_per_s"], 3),
                    "ratio_cold": round(uncached["requests_per_s"] / healthz["requests_per_s"], 3),
                }
                if args.changes_per_second > 0:
                    with churning(url, seeded["location_id"], args.changes_per_second) as changes:
                        churn = wrk(slots_url, args.seconds, args.connections, script)
                    found_round["slots_28_days_churn"] = {**churn, "version_raised": changes[0]}
                    found_round["ratio_churn"] = round(churn["requests_per_s"] / healthz["requests_per_s"], 3)
                found_round["load_avg_after"] = round(os.getloadavg()[0], 1)
                rounds.append(found_round)
                print(json.dumps(rounds[-1]), flush=True)
        finally:
            for process in (server, cold_server):
                process.terminate()
                process.wait(timeout=30)
    print(
        json.dumps(
            {
                "summary": {
                    "bookings": seeded["bookings"],
                    "seat_claims": seeded["seat_claims"],
                    "load_avg": [r["load_avg"] for r in rounds],
                    "healthz_req_per_s": [r["healthz"]["requests_per_s"] for r in rounds],
                    "warm": {
                        "req_per_s": [r["slots_28_days_warm"]["requests_per_s"] for r in rounds],
                        "ratio": [r["ratio_warm"] for r in rounds],
                        "p95_ms": [r["slots_28_days_warm"]["p95_ms"] for r in rounds],
                    },
                    "cold": {
                        "req_per_s": [r["slots_28_days_cold"]["requests_per_s"] for r in rounds],
                        "ratio": [r["ratio_cold"] for r in rounds],
                        "p95_ms": [r["slots_28_days_cold"]["p95_ms"] for r in rounds],
                    },
                    "churn": {
                        "changes_per_second": args.changes_per_second,
                        "req_per_s": [r["slots_28_days_churn"]["requests_per_s"] for r in rounds if "ratio_churn" in r],
                        "ratio": [r["ratio_churn"] for r in rounds if "ratio_churn" in r],
                        "p95_ms": [r["slots_28_days_churn"]["p95_ms"] for r in rounds if "ratio_churn" in r],
                    },
                    "statements_per_search": statements,
                    "in_process_ms": timings,
                    "targets": {"ratio": ">= 0.30", "p95_ms": "<= 25"},
                }
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
