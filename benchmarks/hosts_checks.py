"""The checks of two_hosts.py: what is asked of both hosts, and how each answer is judged."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from booking_race import race
from hosts_support import JOBS_LINE, SKIPPED_LINE, SmtpCounter
from release_burst import Place

from portal.timeutil import BERLIN

PORTAL_PORT = 8000
JOB_TOLERANCE = 3.0  # seconds: the workers' --tick 1 plus the log's one-second resolution
PLACES = {
    "burst": Place("Bürgerbüro Mitte", 10, closed=True),
    "race": Place("Einzelplatz", 1, booking_rate_limit="100000/hour"),
    "limit": Place("Grenztest", 10, booking_rate_limit="10/hour"),
    "cache": Place("Cache-Test", 1, booking_rate_limit="100000/hour", search_rate_limit="100000/minute"),
}


class Access:
    """nginx's access log, read by phase: which host answered what."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, 0

    def since_last(self) -> list[list[str]]:
        with self.path.open() as log:
            log.seek(self.offset)
            lines = log.readlines()
            self.offset = log.tell()
        return [line.split() for line in lines if line.strip()]


def by_host(lines: list[list[str]], hosts: dict[str, str]) -> dict[str, int]:
    names = {f"{address}:{PORTAL_PORT}": name for name, address in hosts.items()}
    return dict(Counter(names.get(fields[-1], fields[-1]) for fields in lines))


# --- checks ----------------------------------------------------------------------------------------------------


def check_race(url: str, port: int, seeded: dict[str, Any], clients: int, access: Access, hosts: dict) -> dict:
    location = seeded["locations"][PLACES["race"].name]
    start = datetime.combine(seeded["day"], datetime.min.time().replace(hour=9), tzinfo=BERLIN).isoformat()
    access.since_last()
    answers, wall = asyncio.run(race(port, location, seeded["service"], [start], clients))
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        bookings = conn.execute(
            sa.text("SELECT count(*) FROM appointment_booking WHERE location_id = :l"), {"l": location}
        ).scalar_one()
        claims = conn.execute(
            sa.text("SELECT count(*) FROM appointment_seat_claim WHERE location_id = :l"), {"l": location}
        ).scalar_one()
    engine.dispose()
    statuses = Counter(status for status, _ms in answers)
    posts = [f for f in access.since_last() if f[2] == '"POST']
    return {
        "clients": clients,
        "statuses": dict(statuses),
        "bookings_in_db": bookings,
        "seat_claims": claims,
        "answered_by": by_host(posts, hosts),
        "wall_s": round(wall, 2),
        "ok": statuses == Counter({201: 1, 409: clients - 1}) and bookings == claims == 1,
    }


def check_rate_limit(base: str, seeded: dict[str, Any], access: Access, hosts: dict, tries: int = 30) -> dict:
    location = seeded["locations"][PLACES["limit"].name]
    first = datetime.combine(seeded["day"], datetime.min.time().replace(hour=8), tzinfo=BERLIN)
    access.since_last()
    statuses: Counter[int] = Counter()
    transport = httpx.HTTPTransport(local_address="127.3.0.1", verify=False)
    with httpx.Client(transport=transport, base_url=base, timeout=60) as http:
        for n in range(tries):
            body = {
                "services": [{"id": seeded["service"], "quantity": 1}],
                "location": location,
                "start": (first + timedelta(minutes=10 * (n % 24))).isoformat(),
                "name": f"Eilig {n}",
                "email": f"eilig{n}@example.org",
            }
            statuses[http.post("/api/v1/appointments/bookings", json=body).status_code] += 1
    served = by_host(access.since_last(), hosts)
    return {
        "limit": PLACES["limit"].booking_rate_limit,
        "tries_from_one_address": tries,
        "statuses": dict(statuses),
        "answered_by": served,
        "ok": statuses == Counter({201: 10, 429: tries - 10}) and len(served) == 2,
    }


def check_search_consistency(seeded: dict[str, Any], hosts: dict[str, str], rounds: int, workers: int) -> dict:
    """Book the first free start on one host, then ask the other host's every worker: is it still offered?"""
    location = seeded["locations"][PLACES["cache"].name]
    day = seeded["day"].isoformat()
    query = {"service": seeded["service"], "location": location, "from": day, "to": day}
    names = list(hosts)
    stale = searches = booked = 0
    with httpx.Client(timeout=60) as http:

        def starts(host: str) -> list[str]:
            response = http.get(f"http://{hosts[host]}:{PORTAL_PORT}/api/v1/appointments/slots", params=query)
            response.raise_for_status()
            return [slot["start"] for slot in response.json()["slots"]]

        for n in range(rounds):
            writer, reader = names[n % 2], names[(n + 1) % 2]
            for _ in range(workers * 3):  # every worker of the reader answers (and caches) the search
                offered = starts(reader)
            if not offered:
                break
            target = offered[0]
            body = {
                "services": [{"id": seeded["service"], "quantity": 1}],
                "location": location,
                "start": target,
                "name": f"Konsistenz {n}",
                "email": f"konsistenz{n}@example.org",
            }
            response = http.post(f"http://{hosts[writer]}:{PORTAL_PORT}/api/v1/appointments/bookings", json=body)
            if response.status_code != 201:
                raise RuntimeError(f"cache check: booking answered {response.status_code}: {response.text[:300]}")
            booked += 1
            for _ in range(workers * 3):
                searches += 1
                stale += target in starts(reader)
    return {"rounds": booked, "searches_after_booking": searches, "stale_answers": stale, "ok": stale == 0}


def outbox_state(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT status, count(*) FROM outbox_message GROUP BY status")).all()
    engine.dispose()
    return {str(status): int(n) for status, n in rows}


def drain_outbox(url: str, smtp: SmtpCounter, seconds: float) -> dict[str, Any]:
    began = time.monotonic()
    state = outbox_state(url)
    while time.monotonic() - began < seconds and (state.get("pending") or state.get("sending")):
        time.sleep(1)
        state = outbox_state(url)
    delivered = smtp.counts()
    sent = state.get("sent", 0)
    return {
        "outbox": state,
        "seconds": round(time.monotonic() - began, 1),
        **delivered,
        "ok": not state.get("pending")
        and not state.get("sending")
        and not state.get("failed")
        and delivered["deliveries"] == delivered["distinct_message_ids"] == sent,
    }


def job_intervals(url: str) -> dict[str, float]:
    """The declared jobs and their intervals in seconds, as the workers see them."""
    from portal import create_app
    from portal.extensions import db
    from portal.jobs import declared_jobs

    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, env="test")
    with app.app_context():
        found = {name: job.every.total_seconds() for name, job in declared_jobs(app).items()}
        db.engine.dispose()
    return found


def count_job_runs(logs: dict[str, Path], every: dict[str, float]) -> dict[str, Any]:
    """Each job's runs on both hosts merged into one timeline: once per interval means no two runs closer
    together than the interval (less the worker's tick and the log's one-second resolution)."""
    runs: dict[str, list[tuple[datetime, str]]] = {job: [] for job in every}
    skipped: Counter[str] = Counter()
    for host, path in logs.items():
        for line in path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # click's "Worker started" lines
            message = str(record.get("message", ""))
            if done := JOBS_LINE.search(message):
                runs.setdefault(done.group(1), []).append((datetime.fromisoformat(record["time"]), host))
            elif busy := SKIPPED_LINE.search(message):
                skipped[busy.group(1)] += 1
    table = {}
    for job, interval in sorted(every.items()):
        times = sorted(runs.get(job, []))
        gaps = [(b - a).total_seconds() for (a, _h), (b, _g) in pairwise(times)]
        table[job] = {
            "every_s": interval,
            "runs": len(times),
            "per_host": dict(Counter(host for _t, host in times)),
            "closest_runs_s": min(gaps) if gaps else None,
            "skipped_by_lock": skipped[job],
            "once_per_interval": all(gap >= interval - JOB_TOLERANCE for gap in gaps),
        }
    return {"jobs": table, "ok": all(row["once_per_interval"] for row in table.values())}
