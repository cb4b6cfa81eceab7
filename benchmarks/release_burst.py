"""The 8:00 rush: one day's slots released at one instant, 2,000 citizens within 60 s searching and booking them.
Targets: 0 × 5xx, every seat booked exactly once, first come first served within the limits of HTTP, the p95 of
the booking request, and every gunicorn worker at ≤ 150 MB RSS afterwards.

    .venv/bin/python benchmarks/release_burst.py                       # 2,000 clients, 60 s, 10 counters
    .venv/bin/python benchmarks/release_burst.py --clients 300 --window 10 --bare-seconds 3   # a quick run

Makes a temporary PostgreSQL database (migrations) with one location (10 counters, 8–12 and 13–16 on a 10-minute
grid: 42 starts, 420 seats, open on the released day only) and a platform administrator. How the day is released:
the location's booking horizon rolls forward start by start (a start becomes bookable exactly `horizon_days`
before it), so it never opens a whole day at once. The day is therefore closed beforehand (a closure
"noch nicht freigegeben") and the administrator removes the closure at the release instant through
appointments.services.config.delete_closure (audited); that raises the location's availability version in the
same transaction, so every cached search goes stale at once.

gunicorn (4 sync workers, production config) serves the portal with its rate limits ON as a city runs them:
the location's own limits (searches 120/minute, bookings 10/hour per address and location), counted in the
machine's Redis (RATELIMIT_STORAGE_URI, a key prefix of this run's own) so all workers share them; every
client comes from its own loopback address (see burst_clients.py). A second gunicorn with the same settings
serves the bare Flask view (bare_app.py), measured with wrk (2 threads, 16 connections) before and after the
burst: the denominator of the throughput. Then: every status per request kind, the seats in the database,
arrival order against success order, latencies, and each worker's VmRSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import date
from datetime import time as clock
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit_verify import SERVER_URL, temporary_database
from booking_race import workday
from burst_clients import arrivals, run_burst, summarise
from serving import WRK_SCRIPT, free_port, portal_config, start_gunicorn, wrk

HOURS = ((clock(8), clock(12)), (clock(13), clock(16)))
UNITS_PER_DAY = 42  # 10-minute starts in HOURS
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
RSS_TARGET_MB = 150


@dataclass(frozen=True)
class Place:
    name: str
    counters: int
    closed: bool = False  # the released day starts closed
    booking_rate_limit: str = "10/hour"
    search_rate_limit: str = "120/minute"


def seed(url: str, day: date, places: list[Place]) -> dict[str, Any]:
    """A department, one 10-minute service, the places (open on `day` only, HOURS) and a platform administrator."""
    from appointments.models import Closure, LocationSettings, OfferedService, OpeningPeriod
    from portal import create_app
    from portal.accounts.models import GlobalRole, User, UserRole
    from portal.departments.models import CatalogueService, Department, Location
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, env="test")
    with app.app_context():
        department = Department(slug="buergeramt", name="Bürgeramt")
        service = CatalogueService(name="Personalausweis beantragen", description="", department=department)
        admin = User(
            email="admin@stadt.example", display_name="Admin", roles=[UserRole(role=GlobalRole.PLATFORM_ADMIN)]
        )
        db.session.add_all([department, service, admin])
        made: dict[str, Any] = {"locations": {}, "closures": {}}
        for place in places:
            location = Location(
                department=department, name=place.name, street="Rathausplatz 1", postcode="01067", city="Musterstadt"
            )
            db.session.add(location)
            db.session.flush()
            db.session.add_all(
                [
                    LocationSettings(
                        location_id=location.id,
                        counters=place.counters,
                        slot_minutes=10,
                        min_notice_minutes=0,
                        booking_rate_limit=place.booking_rate_limit,
                        search_rate_limit=place.search_rate_limit,
                    ),
                    OfferedService(location_id=location.id, catalogue_service_id=service.id, duration_minutes=10),
                    # Open on that day only, so that nothing else is bookable (a 409's `nearest` stays on it).
                    *(
                        OpeningPeriod(
                            location_id=location.id,
                            weekday=day.weekday(),
                            opens=opens,
                            closes=closes,
                            valid_from=day,
                            valid_until=day,
                        )
                        for opens, closes in HOURS
                    ),
                ]
            )
            if place.closed:
                closure = Closure(location_id=location.id, first_day=day, last_day=day, reason="noch nicht freigegeben")
                db.session.add(closure)
                db.session.flush()
                made["closures"][place.name] = closure.id
            made["locations"][place.name] = location.id
        db.session.commit()
        made.update(service=service.id, admin=admin.id, day=day)
        db.engine.dispose()
    return made


class Releaser:
    """Holds an app context ready, so that the release itself is one service call (a few milliseconds)."""

    def __init__(self, url: str, seeded: dict[str, Any], place: str) -> None:
        from portal import create_app

        self.app = create_app({"SQLALCHEMY_DATABASE_URI": url}, env="test")
        self.location, self.closure = seeded["locations"][place], seeded["closures"][place]
        self.admin = seeded["admin"]

    def __call__(self) -> None:
        from appointments.services import config
        from portal.accounts.models import User
        from portal.actors import Actor
        from portal.extensions import db

        with self.app.app_context():
            admin = db.session.get(User, self.admin)
            assert admin is not None
            config.delete_closure(Actor.for_user(admin), self.location, self.closure)
            db.session.remove()
            db.engine.dispose()


def burst_config(url: str, key_file: str, base: str, redis_url: str | None, proxy_hops: int = 0) -> dict[str, Any]:
    config = portal_config(url, "http://127.0.0.1:9", key_file, base)  # Stripe is never called here
    if redis_url:
        config.update(
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI=redis_url,
            RATELIMIT_KEY_PREFIX=f"bench-{uuid.uuid4().hex[:8]}",
        )
    config["PROXY_FIX_HOPS"] = proxy_hops
    return config


def check_database(url: str, location: int, day: date, counters: int, references: list[str]) -> dict[str, Any]:
    """Seats of the released day: each (unit, seat) held once, every one taken, each by an answered 201."""
    from appointments.slots import day_bounds

    begins, ends = day_bounds(day)
    engine = sa.create_engine(url)
    window = {"l": location, "b": begins, "e": ends}
    with engine.connect() as conn:
        claims, distinct_seats, claim_bookings = conn.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT (unit_start, seat)), count(DISTINCT booking_id)"
                " FROM appointment_seat_claim WHERE location_id = :l AND unit_start >= :b AND unit_start < :e"
            ),
            window,
        ).one()
        rows = conn.execute(
            sa.text(
                "SELECT reference, email, status FROM appointment_booking"
                " WHERE location_id = :l AND starts_at >= :b AND starts_at < :e"
            ),
            window,
        ).all()
    engine.dispose()
    stored = [r.reference for r in rows]
    seats = counters * UNITS_PER_DAY
    found = {
        "seats": seats,
        "seat_claims": claims,
        "distinct_seats_claimed": distinct_seats,
        "bookings": len(rows),
        "bookings_with_claims": claim_bookings,
        "statuses": sorted({r.status for r in rows}),
        "max_bookings_per_email": max(
            (sum(1 for r in rows if r.email == e) for e in {r.email for r in rows}), default=0
        ),
        "answered_201_not_stored": len(set(references) - set(stored)),
        "stored_not_answered_201": len(set(stored) - set(references)),
    }
    found["no_seat_twice"] = (
        claims == distinct_seats == len(rows) == claim_bookings == len(references)
        and found["answered_201_not_stored"] == found["stored_not_answered_201"] == 0
        and found["max_bookings_per_email"] == 1
    )
    found["every_seat_once"] = found["no_seat_twice"] and claims == seats
    return found


def workers_of(master_pid: int) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()]


def memory_mb(pid: int) -> dict[str, float]:
    """RSS, PSS (shared pages split among their users) and USS (pages only this process has), in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_unit = line.split()
        fields[name.rstrip(":")] = int(value) / 1024
    return {
        "rss": round(fields["Rss"], 1),
        "pss": round(fields["Pss"], 1),
        "uss": round(fields["Private_Clean"] + fields["Private_Dirty"], 1),
    }


def free_starts(base: str, seeded: dict[str, Any], place: str) -> int:
    day = seeded["day"].isoformat()
    query = {"service": seeded["service"], "location": seeded["locations"][place], "from": day, "to": day}
    response = httpx.get(f"{base}/api/v1/appointments/slots", params=query, timeout=30)
    response.raise_for_status()
    return len(response.json()["slots"])


def verdict(summary: dict[str, Any], checked: dict[str, Any], rss: list[float]) -> dict[str, bool]:
    return {
        "no_5xx": summary["5xx"] == summary["connection_errors"] == summary["client_timeouts"] == 0,
        "every_seat_once": checked["every_seat_once"],
        "rss_within_target": bool(rss) and max(rss) <= RSS_TARGET_MB,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds within which all clients arrive")
    parser.add_argument("--shape", type=float, default=3.0, help="arrival = window × u^shape (1: evenly)")
    parser.add_argument("--counters", type=int, default=10, help="seats per start (42 starts on the day)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--bare-seconds", type=int, default=10, help="per wrk run of the bare view")
    parser.add_argument("--redis", default=REDIS_URL, help="rate-limit storage; 'off' switches the limits off")
    parser.add_argument("--server", default=SERVER_URL)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    redis_url = None if args.redis == "off" else args.redis

    rng = random.Random(20261130)
    day = workday()
    with temporary_database(args.server) as url, tempfile.TemporaryDirectory() as tmp:
        seeded = seed(url, day, [Place("Bürgerbüro Mitte", args.counters, closed=True)])
        port, bare_port = free_port(), free_port()
        base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
        config = burst_config(url, str(Path(tmp) / "audit-key.pem"), base, redis_url)
        script = str(Path(tmp) / "report.lua")
        Path(script).write_text(WRK_SCRIPT)
        release = Releaser(url, seeded, "Bürgerbüro Mitte")
        log_path = Path(tmp) / "gunicorn.log"
        with log_path.open("wb") as log:
            server = start_gunicorn(f"portal:create_app({config!r}, 'production')", port, args.workers, log, "/healthz")
            bare_server = start_gunicorn("bare_app:app", bare_port, args.workers, log, "/")
            try:
                for _ in range(20):  # each worker's imports and database connection
                    httpx.get(f"{base}/healthz")
                    httpx.get(f"{bare}/")
                    closed_before = free_starts(base, seeded, "Bürgerbüro Mitte")
                rss_before = [memory_mb(pid) for pid in workers_of(server.pid)]
                load = os.getloadavg()[0]
                bare_before = wrk(f"{bare}/", args.bare_seconds, script)
                planned = arrivals(args.clients, args.window, args.shape, rng)
                citizens, wall = asyncio.run(
                    run_burst(
                        base,
                        seeded["locations"]["Bürgerbüro Mitte"],
                        seeded["service"],
                        day,
                        planned,
                        rng,
                        release=release,
                    )
                )
                load_after = os.getloadavg()[0]
                memory = [memory_mb(pid) for pid in workers_of(server.pid)]
                rss = [m["rss"] for m in memory]
                left = free_starts(base, seeded, "Bürgerbüro Mitte")
                bare_after = wrk(f"{bare}/", args.bare_seconds, script)
            finally:
                for process in (server, bare_server):
                    process.terminate()
                    process.wait(timeout=30)
        references = [c.reference for c in citizens if c.reference]
        checked = check_database(url, seeded["locations"]["Bürgerbüro Mitte"], day, args.counters, references)
        errors = [line for line in log_path.read_text(errors="replace").splitlines() if '"level": "ERROR"' in line]

    summary = summarise(citizens, wall, args.counters * UNITS_PER_DAY)
    bare_mean = (bare_before["req_per_s"] + bare_after["req_per_s"]) / 2
    busiest = summary["busiest_second_requests"]
    found = {
        "day": day.isoformat(),
        "rate_limits": f"on, location defaults, storage {redis_url}" if redis_url else "off",
        "load_avg_before_after": [round(load, 1), round(load_after, 1)],
        "free_starts_before_release": closed_before,
        "free_starts_after": left,
        **summary,
        "database": checked,
        "worker_memory_mb_before": rss_before,
        "worker_memory_mb_after": memory,
        "bare_req_per_s_before_after": [bare_before["req_per_s"], bare_after["req_per_s"]],
        "busiest_second_ratio_to_bare": round(busiest / bare_mean, 3),
        "mean_req_per_s_ratio_to_bare": round(summary["requests"] / wall / bare_mean, 4),
    }
    ok = verdict(summary, checked, rss)
    found["checks"] = ok
    print(json.dumps(found, indent=2, default=str))
    for line in errors[:20]:
        print(line)
    print("OK" if all(ok.values()) else f"FAILED: {[k for k, v in ok.items() if not v]}")
    return 0 if all(ok.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
