"""1,000 Stripe webhook events, 30 % delivered twice, shuffled, against gunicorn on PostgreSQL: right end states,
each event applied once, no double effects? And how many deliveries per second, next to a bare Flask view?

    .venv/bin/python benchmarks/webhooks.py                        # 1,000 payments, 30 % duplicates, 8 threads
    .venv/bin/python benchmarks/webhooks.py --payments 200 --no-readme   # a quick run

Makes a temporary PostgreSQL database (migrations) and starts the local HTTP double of Stripe's API from the tests
(tests/payments/stripe_double.py). Through the services, in this process, with PAYMENT_PROVIDER=stripe: N payment
orders, each with one started attempt (a Checkout Session at the double, asked for by the real `stripe` library
with the attempt's idempotency key), each naming a success callback that counts (benchmarks/webhook_app.py).
The double then produces one event per payment: `checkout.session.completed` (paid) for 70 %, and
`checkout.session.expired` for the rest. Every event is signed with the webhook secret; 30 % of them are added a
second time (signed again, like Stripe's retries), and the deliveries are shuffled.

Two gunicorns with the same settings (4 sync workers) serve the portal (production config, rate limits off) and a
bare Flask view returning a small JSON (benchmarks/bare_app.py). wrk (2 threads, 16 connections) measures the bare
view before and after; in between, THREADS client threads (httpx, one client each) POST the deliveries to
/api/v1/payments/webhooks/stripe as fast as they are answered. The same threads then GET the bare view as often, to
show what the client alone can do. Afterwards the database is checked: every payment in its expected state, one
stored event per event id, every answer 200 ("applied" once per event, "duplicate" for every repeat), exactly one
move to "succeeded" and one run of the callback per paid payment (none for the expired), and `flask audit verify`.
Prints the figures and writes them into benchmarks/README.md (section "Webhooks").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit_verify import SERVER_URL, temporary_database  # the same temporary database helper
from serving import API_KEY, WEBHOOK_SECRET, WRK_SCRIPT, free_port, portal_config, start_gunicorn, wrk

from portal.timeutil import BERLIN

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "benchmarks" / "README.md"
SECTION = "## Webhooks"
WEBHOOK_PATH = "/api/v1/payments/webhooks/stripe"


# --- setting up ---------------------------------------------------------------------------------------------


def create_payments(config: dict[str, Any], count: int, rng: random.Random) -> list[tuple[str, str]]:
    """N payment orders with one started attempt each, through the services; [(public_id, session id)]."""
    from webhook_app import CALLBACK, create_app

    from payments.services import attempts, orders
    from portal.actors import SYSTEM
    from portal.extensions import db

    app = create_app(config, env="test")
    made = []
    with app.app_context():
        for n in range(count):
            payment = orders.request_payment(
                SYSTEM,
                service="benchmark",
                case_reference=f"WH-{n:05d}",
                purpose=f"Benchmark-Gebühr {n}",
                amount_cents=rng.choice((1300, 2600, 3700, 7000)),
                on_success=CALLBACK,
            )
            attempts.start(SYSTEM, payment.public_id)  # the real stripe library asks the double for a session
            attempt = orders.latest_attempt(payment)
            assert attempt is not None and attempt.provider_reference
            made.append((payment.public_id, attempt.provider_reference))
        db.engine.dispose()
    return made


def make_events(
    double: Any, made: list[tuple[str, str]], paid_share: float, rng: random.Random
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One event per payment from the double (paid or expired); the expected end state per payment."""
    order = list(made)
    rng.shuffle(order)
    paid = round(len(order) * paid_share)
    events, expected = [], {}
    for n, (public_id, session_id) in enumerate(order):
        if n < paid:
            events.append(double.pay(session_id, "card"))
            expected[public_id] = "succeeded"
        else:
            events.append(double.expire(session_id))
            expected[public_id] = "expired"
    return events, expected


def sign_deliveries(
    events: list[dict[str, Any]], duplicate_share: float, rng: random.Random
) -> list[tuple[bytes, str]]:
    """Every event once plus a share of them again (signed anew, as Stripe's retries are), shuffled."""
    from tests.payments.stripe_double import StripeDouble

    again = rng.sample(events, round(len(events) * duplicate_share))
    deliveries = [StripeDouble.signed(event, WEBHOOK_SECRET) for event in events + again]
    rng.shuffle(deliveries)
    return deliveries


# --- serving and measuring ------------------------------------------------------------------------------------


def fire(jobs: list[Any], threads: int, send: Any) -> tuple[list[tuple[int, str, float]], float]:
    """Run `send(client, job)` for every job from `threads` threads (one httpx client each), as fast as answered.

    Returns [(status, outcome, ms)] and the wall time from the first request to the last answer."""
    results: list[tuple[int, str, float]] = []
    lock = threading.Lock()
    jobs_left = iter(jobs)
    start = threading.Barrier(threads + 1)

    def run() -> None:
        with httpx.Client(timeout=60) as client:
            start.wait()
            while True:
                with lock:
                    job = next(jobs_left, None)
                if job is None:
                    return
                began = time.perf_counter()
                status, outcome = send(client, job)
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    results.append((status, outcome, elapsed))

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    return results, time.perf_counter() - began


def deliver(base: str) -> Any:
    def send(client: httpx.Client, delivery: tuple[bytes, str]) -> tuple[int, str]:
        body, signature = delivery
        response = client.post(
            base + WEBHOOK_PATH,
            content=body,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )
        outcome = response.json().get("outcome", "?") if response.status_code == 200 else response.text[:200]
        return response.status_code, outcome

    return send


def bare_get(base: str) -> Any:
    def send(client: httpx.Client, _job: int) -> tuple[int, str]:
        response = client.get(base + "/")
        return response.status_code, "ok"

    return send


# --- checking -----------------------------------------------------------------------------------------------


def check(url: str, config: dict[str, Any], expected: dict[str, str], events: int) -> dict[str, Any]:
    from webhook_app import ACTION, create_app

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, public_id, status FROM payment WHERE service = 'benchmark'")).all()
        status_of = {public_id: status for _id, public_id, status in rows}
        public_of = {str(pid): public_id for pid, public_id, _status in rows}
        stored, distinct = conn.execute(
            sa.text("SELECT count(*), count(DISTINCT event_id) FROM payment_provider_event WHERE provider = 'stripe'")
        ).one()
        stored_outcomes: dict[str, int] = dict(
            conn.execute(
                sa.text("SELECT outcome, count(*) FROM payment_provider_event WHERE provider = 'stripe' GROUP BY 1")
            ).all()
        )
        to_succeeded: Counter[str] = Counter()
        for target_id, details in conn.execute(
            sa.text(
                "SELECT target_id, details FROM audit_event WHERE action = 'payment.status_changed'"
                " AND target_type = 'payment'"
            )
        ):
            if json.loads(details).get("new") == "succeeded":
                to_succeeded[public_of[target_id]] += 1
        callbacks: Counter[str] = Counter(
            {
                public_of[target_id]: n
                for target_id, n in conn.execute(
                    sa.text("SELECT target_id, count(*) FROM audit_event WHERE action = :a GROUP BY 1"), {"a": ACTION}
                )
            }
        )
    engine.dispose()
    wrong_state = [p for p, want in expected.items() if status_of.get(p) != want]
    wrong_effects = [
        p
        for p, want in expected.items()
        if (to_succeeded[p], callbacks[p]) != ((1, 1) if want == "succeeded" else (0, 0))
    ]
    app = create_app(config, env="test")
    with app.app_context():
        verified = app.test_cli_runner().invoke(args=["audit", "verify", "--quiet"])
        from portal.extensions import db

        db.engine.dispose()
    return {
        "states": dict(Counter(status_of.values())),
        "wrong_state": len(wrong_state),
        "events_stored": stored,
        "distinct_event_ids": distinct,
        "stored_outcomes": stored_outcomes,
        "events_sent": events,
        "moves_to_succeeded": sum(to_succeeded.values()),
        "callbacks_run": sum(callbacks.values()),
        "wrong_effects": len(wrong_effects),
        "audit_verify_exit": verified.exit_code,
        "audit_verify": verified.output.strip().splitlines()[-1] if verified.output.strip() else "",
    }


# --- reporting ----------------------------------------------------------------------------------------------


HEADER = (
    "| run | load avg | payments | deliveries (dupl.) | threads | wall | **deliveries/s** | applied events/s | p50 "
    "| p95 | bare view req/s (wrk, before / after) | **ratio** | bare view via the same client | checks |\n"
    "|:--|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:--|"
)
ROW_RE = re.compile(r"^\| \d{4}-\d{2}-\d{2} \d{2}:\d{2} \|.*$", re.M)
KEEP_RUNS = 6


def table_row(r: dict[str, Any]) -> str:
    return (
        f"| {r['run']} | {r['load']:.1f} | {r['payments']:,} | {r['deliveries']:,} ({r['duplicates']:,}) "
        f"| {r['threads']} | {r['wall_s']:.2f} s | **{r['deliveries_per_s']:,.0f}** | {r['events_per_s']:,.0f} "
        f"| {r['p50']:.0f} ms | {r['p95']:.0f} ms | {r['bare_before']:,.0f} / {r['bare_after']:,.0f} "
        f"| **{r['ratio'] * 100:.1f} %** | {r['bare_same_client']:,.0f} | {'all passed' if r['ok'] else 'FAILED'} |"
    )


def write_readme(checked: dict[str, Any], row: dict[str, Any]) -> None:
    """Write the section anew, with this run added to the table of the last KEEP_RUNS runs."""
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    old = pattern.search(text)
    earlier = ROW_RE.findall(old.group(0)) if old else []
    result_table = "\n".join([HEADER, *earlier[-(KEEP_RUNS - 1) :], table_row(row)])
    states = ", ".join(f"{n:,} {state}" for state, n in sorted(checked["states"].items()))
    section = f"""{SECTION}

### `webhooks.py`: 1,000 signed Stripe events, 30 % duplicates, shuffled (target: right end states, no double effects)

    .venv/bin/python benchmarks/webhooks.py
    .venv/bin/python benchmarks/webhooks.py --payments 200 --no-readme   # a quick run

Needs `wrk`. Method: a temporary database (migrations) and the tests' local HTTP double of Stripe's API
(`tests/payments/stripe_double.py`). Set up through the services with `PAYMENT_PROVIDER=stripe`: 1,000 payment
orders with one started attempt each (the real `stripe` library asks the double for a Checkout Session with the
attempt's idempotency key), each naming a success callback that writes one audit event when it runs
(`benchmarks/webhook_app.py`, benchmark-only). The double produces one event per payment,
`checkout.session.completed` (paid) for 70 % and `checkout.session.expired` for 30 %; 300 of the 1,000 events are
added a second time (signed anew, like Stripe's retries), and all 1,300 deliveries are shuffled, so a repeat may
arrive first or at the same moment as its original. Two gunicorns with the same settings (4 sync workers) serve the
portal (production config, rate limits off) and a bare Flask view returning a small JSON (`benchmarks/bare_app.py`:
the denominator of the ratio, measured in the same run). wrk (2 threads, 16 connections, 10 s) measures the bare view
before and after; in between, 8 client threads (httpx) POST the signed deliveries to
`/api/v1/payments/webhooks/stripe` as fast as they are answered. Each delivery verifies the signature on the raw
body, locks the payment, records the event id (the unique key settles a repeat), finishes the attempt, moves the
payment and runs the callback, with the audit events, in one transaction. The same 8 threads then GET the bare view
as often, to show what the Python client alone manages. Afterwards the database is checked: each payment's state,
one stored event per event id, one move to "succeeded" and one callback per paid payment (none for the expired
ones), and `flask audit verify`.

Measured (the last {KEEP_RUNS} runs, Berlin time; the ratio is deliveries/s over the mean of the two wrk figures;
the checks below are those of the last run):

{result_table}

Checks ({"all passed" if row["ok"] else "FAILED"}):
- end states: {states} ({checked["wrong_state"]} payments in a wrong state);
- {checked["events_stored"]:,} provider events stored for {checked["distinct_event_ids"]:,} distinct event ids
  ({checked["events_sent"]:,} sent); answers: {row["outcomes"]};
- {checked["moves_to_succeeded"]:,} moves to "succeeded" and {checked["callbacks_run"]:,} runs of the success callback
  ({checked["wrong_effects"]} payments with a double or a missing effect);
- `flask audit verify`: {checked["audit_verify"]}

Reading: the deliveries are bound by the machine's two cores, shared by the 4 workers, PostgreSQL, the 8 client
threads and other sessions' work. In one process, one at a time (measured once with the Flask test client on this
database, 30 Nov 2026), an applied delivery costs 14 SQL statements and about 4.9 ms (signature check, the attempt,
the payment locked `FOR NO KEY UPDATE`, the event row, the attempt and payment updates, the chain's advisory lock
and end, the audit events), a repeated one 4 statements and about 2.2 ms (the event row's unique key refuses it
before anything changes; the transaction is rolled back). The Python client is not the limit: the same 8 threads
fetch the bare view several times faster than the portal answers webhooks.
"""
    replaced = pattern.sub(lambda _m: section + "\n", text).rstrip() + "\n"
    text = replaced if old else text.rstrip() + "\n\n" + section
    README.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--paid-share", type=float, default=0.7)
    parser.add_argument("--duplicates", type=float, default=0.3, help="share of events delivered a second time")
    parser.add_argument("--threads", type=int, default=8, help="concurrent delivering clients")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run of the bare view")
    parser.add_argument("--server", default=SERVER_URL)
    parser.add_argument("--no-readme", action="store_true", help="print only; leave benchmarks/README.md alone")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")

    from tests.payments.stripe_double import StripeDouble

    rng = random.Random(20261130)
    double = StripeDouble(api_key=API_KEY).start()
    try:
        with temporary_database(args.server) as url, tempfile.TemporaryDirectory() as tmp:
            port, bare_port = free_port(), free_port()
            base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
            config = portal_config(url, double.url, str(Path(tmp) / "audit-key.pem"), base)

            began = time.perf_counter()
            made = create_payments(config, args.payments, rng)
            events, expected = make_events(double, made, args.paid_share, rng)
            setup_s = time.perf_counter() - began
            print(json.dumps({"setup": {"payments": len(made), "events": len(events), "seconds": round(setup_s, 1)}}))

            script = str(Path(tmp) / "report.lua")
            Path(script).write_text(WRK_SCRIPT)
            log_path = Path(tmp) / "gunicorn.log"
            with log_path.open("wb") as log:
                server = start_gunicorn(
                    f"webhook_app:create_app({config!r}, 'production')", port, args.workers, log, "/healthz"
                )
                bare_server = start_gunicorn("bare_app:app", bare_port, args.workers, log, "/")
                try:
                    for _ in range(20):  # every worker's imports and database connection
                        httpx.get(f"{base}/healthz")
                        httpx.get(f"{bare}/")
                    load = os.getloadavg()[0]
                    bare_before = wrk(f"{bare}/", args.seconds, script)
                    deliveries = sign_deliveries(events, args.duplicates, rng)
                    answers, wall = fire(deliveries, args.threads, deliver(base))
                    bare_after = wrk(f"{bare}/", args.seconds, script)
                    same_client, same_wall = fire(list(range(len(deliveries))), args.threads, bare_get(bare))
                finally:
                    for process in (server, bare_server):
                        process.terminate()
                        process.wait(timeout=30)
            checked = check(url, config, expected, len(events))
            errors = [line for line in log_path.read_text(errors="replace").splitlines() if '"level": "ERROR"' in line]
    finally:
        double.stop()

    statuses = Counter(status for status, _outcome, _ms in answers)
    outcomes = Counter(outcome for status, outcome, _ms in answers if status == 200)
    latencies = sorted(ms for _status, _outcome, ms in answers)
    bare_mean = (bare_before["req_per_s"] + bare_after["req_per_s"]) / 2
    row = {
        "run": datetime.now(BERLIN).strftime("%Y-%m-%d %H:%M"),
        "load": load,
        "payments": len(made),
        "deliveries": len(deliveries),
        "duplicates": len(deliveries) - len(events),
        "threads": args.threads,
        "wall_s": wall,
        "deliveries_per_s": len(deliveries) / wall,
        "events_per_s": len(events) / wall,
        "p50": statistics.median(latencies),
        "p95": statistics.quantiles(latencies, n=100)[94],
        "bare_before": bare_before["req_per_s"],
        "bare_after": bare_after["req_per_s"],
        "ratio": len(deliveries) / wall / bare_mean,
        "bare_same_client": len(same_client) / same_wall,
        "outcomes": ", ".join(f"{n:,} × {outcome}" for outcome, n in outcomes.most_common())
        + "".join(f", {n:,} × HTTP {status}" for status, n in statuses.items() if status != 200),
    }
    ok = (
        statuses == Counter({200: len(deliveries)})
        and outcomes == Counter({"applied": len(events), "duplicate": len(deliveries) - len(events)})
        and checked["wrong_state"] == 0
        and checked["events_stored"] == checked["distinct_event_ids"] == len(events)
        and checked["wrong_effects"] == 0
        and checked["audit_verify_exit"] == 0
        and bare_before["errors"] == bare_after["errors"] == 0
    )
    row["ok"] = ok
    result_table = "\n".join([HEADER, table_row(row)])
    print(json.dumps({"bare_before": bare_before, "bare_after": bare_after, "checked": checked}, indent=2))
    print(result_table)
    print(f"answers: {row['outcomes']}")
    print("OK: every payment in its state, each event applied once, no double effect" if ok else "FAILED: see above")
    for line in errors[:20]:
        print(line)
    if not args.no_readme:
        write_readme(checked, row)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
