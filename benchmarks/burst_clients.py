"""The citizens of a release burst, and the figures drawn from what they saw (used by release_burst.py and
two_hosts.py).

Each citizen is one asyncio task with its own httpx client and its own source address on loopback
(127.B.x.y: Linux answers the whole 127/8 on `lo`), so per-address rate limits see 2,000 different people
rather than one. A citizen arrives at its planned moment, searches the released day's free times, books one of
the listed starts (at random, weighted by the seats left at each), takes one of the `nearest` times a 409 offers,
searches again when that list is empty, and stops when it has a seat, when the search lists nothing, after
TRIES booking attempts, or at any other answer (422, 429, 5xx, a broken connection).
"""

from __future__ import annotations

import asyncio
import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

TRIES = 5
TIMEOUT = 300  # seconds; a browser would wait about as long


@dataclass
class Citizen:
    n: int
    address: str
    planned: float  # seconds after the release
    arrived: float | None = None  # when its first request was sent
    won: float | None = None  # when its 201 arrived
    reference: str | None = None
    outcome: str = "waiting"  # booked, sold_out, gave_up, refused_<status>
    # (kind, status, sent at, milliseconds); status 0: the connection failed, -1: no answer within TIMEOUT
    requests: list[tuple[str, int, float, float]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "book 409 slot-taken": the problem type of refusals


def source_address(block: int, n: int) -> str:
    return f"127.{block}.{n // 250 % 250}.{n % 250 + 1}"


def arrivals(clients: int, window: float, shape: float, rng: random.Random) -> list[float]:
    """Planned arrival moments: window × u^shape for uniform u, so they crowd at the release (shape 3: a
    quarter of the clients in the first second of a 60-second window, half in the first 7.5 seconds)."""
    return sorted(window * rng.random() ** shape for _ in range(clients))


async def run_burst(
    base: str,
    location: int,
    service: int,
    day: date,
    planned: Sequence[float],
    rng: random.Random,
    *,
    release: Callable[[], None],
    block: int = 1,
) -> tuple[list[Citizen], float]:
    """Release (a blocking call), then let the citizens come; returns them and the wall time to the last."""
    slots_path = "/api/v1/appointments/slots"
    query: dict[str, str | int] = {
        "service": service,
        "location": location,
        "from": day.isoformat(),
        "to": day.isoformat(),
    }
    citizens = [Citizen(n, source_address(block, n), at) for n, at in enumerate(planned)]
    choices = [random.Random(rng.random()) for _ in citizens]  # one stream each: independent of scheduling

    async def call(citizen: Citizen, kind: str, request: Any) -> tuple[int, Any]:
        sent = time.perf_counter() - began
        if citizen.arrived is None:
            citizen.arrived = sent
        try:
            response = await request
            status = response.status_code
            body = response.json() if response.headers.get("content-type", "").endswith("json") else None
        except httpx.TimeoutException:
            status, body = -1, None
        except (httpx.HTTPError, ValueError):
            status, body = 0, None
        citizen.requests.append((kind, status, sent, (time.perf_counter() - began - sent) * 1000))
        if status >= 400:
            kind_of = body.get("type", "?") if isinstance(body, dict) else "?"
            citizen.problems.append(f"{kind} {status} {str(kind_of).rsplit('/', 1)[-1]}")
        return status, body

    async def live(citizen: Citizen, choose: random.Random) -> None:
        await asyncio.sleep(max(0.0, citizen.planned - (time.perf_counter() - began)))
        # verify=False: plain HTTP, and loading the CA bundle would cost 20 ms per client.
        transport = httpx.AsyncHTTPTransport(local_address=citizen.address, verify=False)
        async with httpx.AsyncClient(transport=transport, base_url=base, timeout=TIMEOUT) as http:
            start: str | None = None
            for _attempt in range(TRIES):
                if start is None:
                    status, body = await call(citizen, "search", http.get(slots_path, params=query))
                    if status != 200:
                        citizen.outcome = f"refused_{status}"
                        return
                    if not body["slots"]:
                        citizen.outcome = "sold_out"
                        return
                    free = body["slots"]
                    start = choose.choices(free, weights=[slot["seats_left"] for slot in free])[0]["start"]
                booking = {
                    "services": [{"id": service, "quantity": 1}],
                    "location": location,
                    "start": start,
                    "name": f"Person {citizen.n}",
                    "email": f"person{citizen.n}.b{block}@example.org",
                }
                status, body = await call(citizen, "book", http.post("/api/v1/appointments/bookings", json=booking))
                if status == 201:
                    citizen.won, citizen.reference = time.perf_counter() - began, body["reference"]
                    citizen.outcome = "booked"
                    return
                if status != 409:
                    citizen.outcome = f"refused_{status}"
                    return
                nearest = (body or {}).get("nearest") or []
                start = choose.choice(nearest) if nearest else None
            citizen.outcome = "gave_up"

    release()
    began = time.perf_counter()
    await asyncio.gather(*(live(c, choose) for c, choose in zip(citizens, choices, strict=True)))
    return citizens, time.perf_counter() - began


# --- figures ---------------------------------------------------------------------------------------------------


def percentiles(values: Sequence[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": values[0] if values else math.nan, "p95": math.nan, "p99": math.nan, "n": len(values)}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "p99": round(cuts[98], 1), "n": len(values)}


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1  # ties share their mean rank
        i = j + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    if len(xs) < 3:
        return math.nan
    return round(statistics.correlation(_ranks(xs), _ranks(ys)), 3)


def _number(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def fairness(citizens: Sequence[Citizen], seats: int) -> dict[str, Any]:
    """How arrival order and success order agree. Arrival = the first request sent.

    - spearman_arrival_vs_success: over the citizens who booked, rank of arrival against rank of the 201's
      arrival (1.0: served strictly in order of arrival);
    - kendall_tau_b_arrival_vs_seat: over everybody, arrival time against "got a seat" (1/0); negative means
      early arrivals got the seats; with one binary variable its bound is -sqrt(w·l/(n(n-1)/2)), given too;
    - winner_before_loser: the chance that a random citizen with a seat arrived before a random one without
      (1.0: strictly first come first served, 0.5: a lottery);
    - first_arrivals_seated: of the first `seats` arrivals, the share that got a seat.
    """
    came = sorted((c for c in citizens if c.arrived is not None), key=lambda c: c.arrived or 0.0)
    winners = [c for c in came if c.won is not None]
    n, w = len(came), len(winners)
    losers = n - w
    before = seen_winners = 0
    for c in came:
        if c.won is not None:
            seen_winners += 1
        else:
            before += seen_winners  # pairs (earlier winner, this loser)
    pairs = n * (n - 1) / 2
    tied = w * (w - 1) / 2 + losers * (losers - 1) / 2
    denominator = math.sqrt(pairs * (pairs - tied)) if pairs and pairs > tied else math.nan
    discordant_minus_concordant = before - (w * losers - before)
    return {
        "spearman_arrival_vs_success": _number(
            spearman([c.arrived or 0.0 for c in winners], [c.won or 0.0 for c in winners])
        ),
        "kendall_tau_b_arrival_vs_seat": _number(-discordant_minus_concordant / denominator),
        "kendall_tau_b_bound": _number(-(w * losers) / denominator),
        "winner_before_loser": _number(before / (w * losers)) if w and losers else None,
        "first_arrivals_seated": _number(sum(c.won is not None for c in came[:seats]) / max(1, min(seats, n))),
    }


def summarise(citizens: Sequence[Citizen], wall: float, seats: int) -> dict[str, Any]:
    calls = [r for c in citizens for r in c.requests]
    statuses = {
        kind: dict(sorted(Counter(s for k, s, _t, _ms in calls if k == kind).items())) for kind in ("search", "book")
    }
    busiest = Counter(int(sent + ms / 1000) for _k, _s, sent, ms in calls).most_common(1)
    won = [c.won for c in citizens if c.won is not None]
    return {
        "clients": len(citizens),
        "requests": len(calls),
        "statuses": statuses,
        "5xx": sum(1 for _k, s, _t, _ms in calls if s >= 500),
        "connection_errors": sum(1 for _k, s, _t, _ms in calls if s == 0),
        "client_timeouts": sum(1 for _k, s, _t, _ms in calls if s == -1),
        "outcomes": dict(Counter(c.outcome for c in citizens).most_common()),
        "refusals": dict(Counter(p for c in citizens for p in c.problems).most_common()),
        "booked": len(won),
        "sold_out_after_s": round(max(won), 2) if won else None,
        "wall_s": round(wall, 2),
        "busiest_second_requests": busiest[0][1] if busiest else 0,
        "book_ms": percentiles([ms for k, _s, _t, ms in calls if k == "book"]),
        "book_201_ms": percentiles([ms for k, s, _t, ms in calls if k == "book" and s == 201]),
        "search_ms": percentiles([ms for k, _s, _t, ms in calls if k == "search"]),
        "fairness": fairness(citizens, seats),
    }
