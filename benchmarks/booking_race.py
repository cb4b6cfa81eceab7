"""200 clients, 20 single-seat slots, 4 gunicorn workers on PostgreSQL: exactly one booking per seat?

    .venv/bin/python benchmarks/booking_race.py                      # 200 clients, 20 slots, 4 workers
    .venv/bin/python benchmarks/booking_race.py --clients 400 --slots 40 --no-readme

Makes a temporary database (migrations), adds one location with one counter and a 10-minute service, starts
gunicorn (4 sync workers, rate limiting switched off in its config) on a free loopback port, and lets N
clients (asyncio + httpx, one connection each, no cookies) POST a booking at once, client i for slot i mod S.
Expected: exactly S × 201, N − S × 409, no 5xx, and exactly S bookings (one per slot, one claim per seat) in
the database. Prints the table and writes it into benchmarks/README.md (section "Booking race").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import IO

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit_verify import SERVER_URL, temporary_database  # the same temporary database helper
from serving import portal_config

from portal.timeutil import BERLIN

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "benchmarks" / "README.md"
SECTION = "## Booking race"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def workday() -> date:
    from appointments.slots import is_public_holiday

    day = datetime.now(BERLIN).date() + timedelta(days=3)
    while day.weekday() >= 5 or is_public_holiday(day):
        day += timedelta(days=1)
    return day


def seed(url: str, slots: int) -> tuple[int, int, list[str]]:
    """One location, one counter, a 10-minute service; returns (location, service, slot starts)."""
    from appointments.models import LocationSettings, OfferedService, OpeningPeriod
    from portal import create_app
    from portal.departments.models import CatalogueService, Department, Location
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, env="test")
    with app.app_context():
        department = Department(slug="buergeramt", name="Bürgeramt")
        location = Location(
            department=department, name="Bürgerbüro", street="Rathausplatz 1", postcode="01067", city="Musterstadt"
        )
        service = CatalogueService(name="Personalausweis beantragen", description="", department=department)
        db.session.add_all([department, location, service])
        db.session.flush()
        db.session.add(
            LocationSettings(
                location_id=location.id, counters=1, slot_minutes=10, min_notice_minutes=0, max_open_per_email=5
            )
        )
        for weekday in range(7):
            db.session.add(OpeningPeriod(location_id=location.id, weekday=weekday, opens=clock(8), closes=clock(18)))
        db.session.add(OfferedService(location_id=location.id, catalogue_service_id=service.id, duration_minutes=10))
        db.session.commit()
        day = workday()
        first = datetime.combine(day, clock(8), tzinfo=BERLIN)
        starts = [(first + timedelta(minutes=10 * n)).isoformat() for n in range(slots)]
        ids = (location.id, service.id)
        db.engine.dispose()
    return ids[0], ids[1], starts


def start_gunicorn(url: str, port: int, workers: int, key_file: str, log: IO[bytes]) -> subprocess.Popen:
    # Production settings as every benchmark uses them (payments included, or production refuses to start);
    # rate limits off: the benchmark is about the seats, not the per-IP limit.
    config = portal_config(url, "http://127.0.0.1:9", key_file, f"http://127.0.0.1:{port}")
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}",
        "--backlog", "2048",
        "--log-level", "warning",
        f"portal:create_app({config!r}, 'production')",
    ]  # fmt: skip
    # The app's request log goes to a file, so the table is not buried; it is shown when something failed.
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "STADTPORTAL_ENV": "production"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited")
    process.terminate()
    raise RuntimeError("gunicorn did not come up")


async def race(
    port: int, location: int, service: int, starts: list[str], clients: int
) -> tuple[list[tuple[int, float]], float]:
    url = f"http://127.0.0.1:{port}/api/v1/appointments/bookings"
    go = asyncio.Event()
    ready = 0
    # Warm every worker up (database connection, first-use imports) so the race measures steady state.
    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(*(http.get(f"{url}/T-0000-000000", params={"token": "x"}) for _ in range(32)))

    async def client(n: int) -> tuple[int, float]:
        body = {
            "services": [{"id": service, "quantity": 1}],
            "location": location,
            "start": starts[n % len(starts)],
            "name": f"Person {n}",
            "email": f"person{n}@example.org",
        }
        # One client, one connection, no cookie jar shared with anybody: like 200 separate browsers/apps.
        nonlocal ready
        async with httpx.AsyncClient(timeout=120) as http:
            ready += 1
            await go.wait()
            started = time.perf_counter()
            response = await http.post(url, json=body)
            return response.status_code, (time.perf_counter() - started) * 1000

    tasks = [asyncio.create_task(client(n)) for n in range(clients)]
    while ready < clients:  # every client has its connection pool and waits at the start line
        await asyncio.sleep(0.01)
    began = time.perf_counter()
    go.set()
    answers = list(await asyncio.gather(*tasks))
    return answers, time.perf_counter() - began


def check_database(url: str) -> dict:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        bookings = conn.execute(sa.text("SELECT count(*) FROM appointment_booking")).scalar_one()
        per_slot = conn.execute(
            sa.text("SELECT max(n) FROM (SELECT count(*) AS n FROM appointment_booking GROUP BY starts_at) AS s")
        ).scalar_one()
        claims = conn.execute(sa.text("SELECT count(*) FROM appointment_seat_claim")).scalar_one()
        mails = conn.execute(sa.text("SELECT count(*) FROM outbox_message")).scalar_one()
        audited = conn.execute(
            sa.text("SELECT count(*) FROM audit_event WHERE action = 'appointment.booked'")
        ).scalar_one()
    engine.dispose()
    return {"bookings": bookings, "max_per_slot": per_slot, "claims": claims, "mails": mails, "audited": audited}


def table(rows: list[dict]) -> str:
    lines = [
        "| clients | slots | workers | load avg | 201 | 409 | 5xx | other | bookings in DB | max per slot | wall "
        "| p50 | p95 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['clients']} | {r['slots']} | {r['workers']} | {r['load']:.1f} | {r['201']} | {r['409']} | "
            f"{r['5xx']} | {r['other']} | {r['bookings']} | {r['max_per_slot']} | {r['wall_s']:.2f} s | "
            f"{r['p50']:.0f} ms | {r['p95']:.0f} ms |"
        )
    return "\n".join(lines)


def write_readme(result_table: str, ok: bool) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    verdict = (
        "exactly one booking per seat, every other client a clean 409, no 5xx"
        if ok
        else "NOT as expected, see the table"
    )
    section = f"""{SECTION}

### `booking_race.py`: 200 clients, 20 single-seat slots (target: 20 × 201, 180 × 409, 0 × 5xx)

    .venv/bin/python benchmarks/booking_race.py
    .venv/bin/python benchmarks/booking_race.py --clients 400 --slots 40 --no-readme

Method: a temporary database (migrations), one location with one counter and a 10-minute service on a
10-minute grid, so each of the 20 slots has exactly one seat. gunicorn with 4 sync workers serves the real app
(production config, rate limiting off). 200 asyncio clients (httpx, one connection each, no cookies, no CSRF
token: the public API needs none) wait at a start line, then all POST `/api/v1/appointments/bookings`, client
i for slot i mod 20. Each successful request runs the whole use case in one transaction: validation, seat
claims (the unique key on location, unit and seat decides; a loser rolls back its SAVEPOINT and gets 409 with
the nearest free times), the audit event, the mail with its iCalendar file. Afterwards the database is
counted: bookings, bookings per slot, seat claims, mails, audit events.

Measured ({date.today():%d %b %Y}):

{result_table}

Result: {verdict}.
Latency is from the start line to the answer, so it includes waiting in gunicorn's backlog behind the other
clients (4 workers serve 200 requests); a 409 costs the nearest-free-times search.
"""
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    README.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--server", default=os.environ.get("BENCH_DATABASE_URL", SERVER_URL))
    parser.add_argument("--no-readme", action="store_true", help="print only; leave benchmarks/README.md alone")
    args = parser.parse_args()

    with temporary_database(args.server) as url, tempfile.TemporaryDirectory() as tmp:
        location, service, starts = seed(url, args.slots)
        port = free_port()
        log_path = Path(tmp) / "gunicorn.log"
        log = log_path.open("wb")
        server = start_gunicorn(url, port, args.workers, str(Path(tmp) / "audit-key.pem"), log)
        try:
            answers, wall = asyncio.run(race(port, location, service, starts, args.clients))
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
        counted = check_database(url)
        errors = [line for line in log_path.read_text(errors="replace").splitlines() if '"level": "ERROR"' in line]

    codes = Counter(status for status, _ms in answers)
    latencies = sorted(ms for _status, ms in answers)
    row = {
        "clients": args.clients,
        "slots": args.slots,
        "workers": args.workers,
        "load": os.getloadavg()[0],
        "201": codes[201],
        "409": codes[409],
        "5xx": sum(n for status, n in codes.items() if status >= 500),
        "other": sum(n for status, n in codes.items() if status not in (201, 409) and status < 500),
        "wall_s": wall,
        "p50": statistics.median(latencies),
        "p95": statistics.quantiles(latencies, n=100)[94],
        **counted,
    }
    ok = (
        row["201"] == args.slots
        and row["409"] == args.clients - args.slots
        and row["5xx"] == 0
        and row["other"] == 0
        and counted["bookings"] == args.slots
        and counted["max_per_slot"] == 1
        and counted["claims"] == args.slots
    )
    result_table = table([row])
    print(result_table)
    print(f"status codes: {dict(codes)}; database: {counted}")
    print("OK: exactly one booking per seat" if ok else "FAILED: see above")
    for line in errors[:20]:
        print(line)
    if not args.no_readme:
        write_readme(result_table, ok)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
