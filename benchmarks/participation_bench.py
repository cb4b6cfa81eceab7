"""Participation at scale on PostgreSQL: a consultation with 5,000 proposals and 100,000 comments (one proposal with a
thread of 5,000), read through gunicorn next to a bare Flask view (targets: ≥ 10 % of the bare view's throughput,
p95 ≤ 150 ms, ≤ 10 SQL statements per request and the same number at a tenth of the data).

    .venv/bin/python benchmarks/participation_bench.py                       # 5,000 / 100,000, 2 rounds of 10 s
    .venv/bin/python benchmarks/participation_bench.py --proposals 500 --comments 10000 --big-thread 500 \\
        --seconds 5 --rounds 1                                              # a quick run

(Named participation_bench.py, not participation.py: gunicorn runs with --pythonpath benchmarks, where a
participation.py would hide the portal's `participation` package.)

Makes a temporary PostgreSQL database (migrations) and seeds it (benchmarks/participation_seed.py): people,
department and consultations through the services, proposals, supports and comments with COPY and the counters the
services keep. Two consultations: the full one and one with a tenth of everything (500 proposals, 10,000 comments,
a thread of 500), to compare the statements per request. In this process (Flask test client, each request in an app
context of its own, as under gunicorn) the SQL statements and the time per request are counted for both, anonymous
and signed in. Then two gunicorns with the same settings (4 sync workers; the portal in production configuration,
the web server's rate limits off since all load comes from one address) serve the portal and the bare Flask view
(benchmarks/bare_app.py). Per round wrk (1 thread, 4 connections, 10 s each; the same for the bare view) measures the
bare view, then for each of the proposal list (/beteiligung/<slug>), the proposal page with the big thread and the
comments API of that proposal: anonymous, signed in (the session cookie from the login form), the bare view again.
Each ratio is over the mean of the bare-view runs just before and just after its pair, since the machine's load
drifts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit_verify import SERVER_URL, temporary_database
from data_access import session_cookie
from participation_seed import SeededConsultation, seed
from serving import WRK_SCRIPT, free_port, portal_config, start_gunicorn, wrk

SCALES = {"full": 1.0, "tenth": 0.1}
ENDPOINTS = ("list", "proposal", "api")
VIEWERS = ("anonymous", "signed_in")


def paths(c: SeededConsultation) -> dict[str, str]:
    return {
        "list": f"/beteiligung/{c.slug}",
        "proposal": f"/beteiligung/{c.slug}/vorschlaege/{c.big_thread_reference}",
        "api": f"/api/v1/participation/proposals/{c.big_thread_id}/comments",
    }


def check_answer(label: str, c: SeededConsultation, status: int, body: str) -> None:
    """What a reader would see: the list with the consultation's count, the proposal with its title, answer and
    comment count, the API with a page of 20 comments."""
    if status != 200:
        raise RuntimeError(f"{label} answered {status}: {body[:300]}")
    wanted = {
        "list": [f"{c.proposals} veröffentlichte Vorschläge", "Weitere Vorschläge"],
        "proposal": [c.big_thread_title, "Antwort der Verwaltung", "Weitere Kommentare"],
        "api": ['"next_cursor"'],
    }[label]
    missing = [w for w in wanted if w not in body]
    if missing:
        raise RuntimeError(f"{label}: {missing} not in the answer")
    if label == "api" and len(json.loads(body)["items"]) != 20:
        raise RuntimeError("the comments API did not answer 20 comments")


# --- in-process: statements and time per request --------------------------------------------------------------


def in_process(cfg: dict[str, Any], seeded: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Statements per request for each consultation (full, tenth), anonymous and signed in, on the first page and on
    the next one (the cursor of "Weitere …"); mean ms one request at a time (no server, no concurrency)."""
    from portal import create_app
    from portal.accounts.models import User
    from portal.extensions import db
    from tests.portal.audit.helpers import sign_in

    app = create_app(cfg, env="test")
    seen: list[str] = []
    sql_seconds = [0.0]
    clients = {"anonymous": app.test_client(), "signed_in": app.test_client()}

    def before(conn: Any, *args: Any) -> None:
        seen.append(args[1])
        conn.info["began"] = time.perf_counter()

    def after(conn: Any, *args: Any) -> None:
        sql_seconds[0] += time.perf_counter() - conn.info.pop("began")

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", before)
        sa.event.listen(db.engine, "after_cursor_execute", after)
        sign_in(clients["signed_in"], db.session.get(User, seeded["viewer"]["id"]))

    def measure(client: Any, url: str) -> dict[str, Any]:
        client.get(url)  # warm-up: templates, the first connection
        seen.clear()
        sql_seconds[0] = 0.0
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(repeat):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        return {
            "statements": len(seen) / repeat,
            "ms": round((time.perf_counter() - started) / repeat * 1000, 2),
            # CPU of this process only (not PostgreSQL's): less moved by other load than the wall time
            "cpu_ms": round((time.process_time() - cpu) / repeat * 1000, 2),
            "sql_ms": round(sql_seconds[0] / repeat * 1000, 2),  # until the cursor has executed, rows not fetched
            "next": _next_url(response),
        }

    found: dict[str, Any] = {}
    for scale in SCALES:
        c: SeededConsultation = seeded[scale]
        for who, client in clients.items():
            for label, url in paths(c).items():
                first = measure(client, url)
                second = measure(client, first["next"]) if first["next"] else None
                found[f"{scale} {who} {label}"] = {
                    "statements": first["statements"],
                    "ms": first["ms"],
                    "cpu_ms": first["cpu_ms"],
                    "sql_ms": first["sql_ms"],
                    "next_page_statements": second and second["statements"],
                    "next_page_ms": second and second["ms"],
                }
            answer = client.get(paths(c)["proposal"])
            if scale == "full":
                check_answer("proposal", c, answer.status_code, answer.get_data(as_text=True))
    with app.app_context():
        db.engine.dispose()
    found["bare view cpu_ms"] = bare_cpu_ms(repeat * 50)
    return found


def bare_cpu_ms(repeat: int) -> float:
    """The bare view's CPU per request through the same test client: the in-process denominator."""
    from bare_app import app as bare

    client = bare.test_client()
    client.get("/")
    cpu = time.process_time()
    for _ in range(repeat):
        client.get("/")
    return round((time.process_time() - cpu) / repeat * 1000, 3)


def _next_url(response: Any) -> str | None:
    """The address of the next page: the "Weitere Vorschläge/Kommentare" link, or the API's next cursor."""
    if response.is_json:
        cursor = response.json.get("next_cursor")
        return f"{response.request.path}?cursor={cursor}" if cursor else None
    body = response.get_data(as_text=True)
    match = re.search(r'href="([^"]*(?:\?|&amp;)(?:nach|kommentare)=[^"#]*)', body)
    return match.group(1).replace("&amp;", "&") if match else None


# --- over HTTP ----------------------------------------------------------------------------------------------


def measure_http(cfg: dict[str, Any], seeded: dict[str, Any], args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    port, bare_port = free_port(), free_port()
    base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
    cfg = {**cfg, "BASE_URL": base}
    c: SeededConsultation = seeded["full"]
    plain = tmp / "plain.lua"
    plain.write_text(WRK_SCRIPT)
    rounds = []
    with (tmp / "gunicorn.log").open("wb") as log:
        server = start_gunicorn(f"portal:create_app({cfg!r}, 'production')", port, args.workers, log, "/healthz")
        bare_server = start_gunicorn("bare_app:app", bare_port, args.workers, log, "/")
        try:
            viewer = seeded["viewer"]
            cookie = session_cookie(base, viewer["email"], viewer["password"])
            signed = tmp / "signed.lua"
            signed.write_text(WRK_SCRIPT + f'wrk.headers["Cookie"] = "session={cookie}"\n')
            scripts = {"anonymous": plain, "signed_in": signed}
            for label, path in paths(c).items():
                for who in scripts:
                    headers = {"Cookie": f"session={cookie}"} if who == "signed_in" else {}
                    answer = httpx.get(base + path, headers=headers, timeout=60)
                    check_answer(label, c, answer.status_code, answer.text)
            for _ in range(5 * args.workers):  # every worker's imports, templates and database connection
                httpx.get(f"{bare}/")
                for path in paths(c).values():
                    httpx.get(base + path)
            t, n = args.threads, args.connections
            for r in range(args.rounds):
                # The bare view before and after each pair (anonymous, signed in): the machine's load drifts.
                found: dict[str, Any] = {"round": r + 1, "load_avg": round(os.getloadavg()[0], 1)}
                bare_runs = [wrk(f"{bare}/", args.seconds, str(plain), t, n)]
                for label, path in paths(c).items():
                    for who, script in scripts.items():
                        found[f"{who} {label}"] = wrk(base + path, args.seconds, str(script), t, n)
                    bare_runs.append(wrk(f"{bare}/", args.seconds, str(plain), t, n))
                    bare_mean = (bare_runs[-2]["req_per_s"] + bare_runs[-1]["req_per_s"]) / 2
                    for who in scripts:
                        found[f"{who} {label}"]["ratio"] = round(found[f"{who} {label}"]["req_per_s"] / bare_mean, 4)
                found["bare"] = bare_runs
                found["load_avg_after"] = round(os.getloadavg()[0], 1)
                rounds.append(found)
                print(json.dumps(found), flush=True)
        finally:
            for process in (server, bare_server):
                process.terminate()
                process.wait(timeout=30)
    errors = [line for line in (tmp / "gunicorn.log").read_text(errors="replace").splitlines() if "ERROR" in line]
    return {"rounds": rounds, "server_errors": errors[:20]}


# --- reporting ----------------------------------------------------------------------------------------------


def rows(rounds: list[dict[str, Any]]) -> str:
    """Markdown rows for benchmarks/README.md: one per round and viewer."""
    stamp = time.strftime("%Y-%m-%d %H:%M")
    lines = []
    for r in rounds:
        for who in VIEWERS:
            cells = " ".join(
                f"| {r[f'{who} {k}']['req_per_s']:,.0f} (**{r[f'{who} {k}']['ratio'] * 100:.1f} %**), "
                f"p95 **{r[f'{who} {k}']['p95_ms']:.0f} ms**"
                for k in ENDPOINTS
            )
            bare = " / ".join(f"{b['req_per_s']:,.0f}" for b in r["bare"])
            lines.append(
                f"| {stamp} r{r['round']} | {who.replace('_', ' ')} | {r['load_avg']:.1f}–{r['load_avg_after']:.1f} "
                f"| {bare} {cells} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=5_000)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--big-thread", type=int, default=5_000, help="comments on the one proposal measured")
    parser.add_argument("--people", type=int, default=2_000, help="participants (authors and supporters)")
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads, the same for the bare view")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections, the same for the bare view")
    parser.add_argument("--repeat", type=int, default=20, help="in-process requests per page for the mean time")
    parser.add_argument("--server", default=SERVER_URL)
    parser.add_argument(
        "--cache",
        choices=("redis", "worker", "off"),
        default="redis",
        help="rendered pages kept under the consultation's cache token: shared through Redis (a key prefix of this "
        "run's own), per worker only, or not at all (what rendering from the database costs)",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")

    base = {"proposals": args.proposals, "comments": args.comments, "big_thread": args.big_thread}
    with temporary_database(args.server) as url, tempfile.TemporaryDirectory() as tmp:
        cfg = portal_config(url, "http://127.0.0.1:9", str(Path(tmp) / "audit-key.pem"), "http://127.0.0.1")
        cfg["PARTICIPATION_CACHE"] = args.cache != "off"
        if args.cache == "redis":
            cfg["PARTICIPATION_CACHE_URL"] = args.redis
            cfg["PARTICIPATION_CACHE_PREFIX"] = f"bench:participation:{random.getrandbits(32):08x}"
        began = time.perf_counter()
        seeded = seed(cfg, SCALES, {**base, "people": args.people}, random.Random(20261201))
        described = {k: v.__dict__ for k, v in seeded.items() if isinstance(v, SeededConsultation)}
        print(json.dumps({"seeded_in_s": round(time.perf_counter() - began, 1), **described}), flush=True)
        counted = in_process(cfg, seeded, args.repeat)
        print(json.dumps({"in_process": counted, "load_avg": round(os.getloadavg()[0], 1)}, indent=1), flush=True)
        http = measure_http(cfg, seeded, args, Path(tmp))
    rounds = http["rounds"]
    statements = {
        f"{who} {label}": (counted[f"tenth {who} {label}"]["statements"], counted[f"full {who} {label}"]["statements"])
        for who in VIEWERS
        for label in ENDPOINTS
    }
    errors = sum(r[k]["errors"] for r in rounds for k in r if k.startswith(VIEWERS))
    errors += sum(b["errors"] for r in rounds for b in r["bare"])
    ok = not errors and not http["server_errors"]
    targets = {
        "statements_tenth_vs_full": statements,
        "statements_equal": all(a == b for a, b in statements.values()),
        "statements_at_most_10": all(
            max(counted[k]["statements"], counted[k]["next_page_statements"] or 0) <= 10
            for k in counted
            if isinstance(counted[k], dict)
        ),
        "ratio_at_least_10_percent": all(r[k]["ratio"] >= 0.10 for r in rounds for k in r if k.startswith(VIEWERS)),
        "p95_at_most_150_ms": all(r[k]["p95_ms"] <= 150 for r in rounds for k in r if k.startswith(VIEWERS)),
        "wrk_errors": errors,
        "server_errors": http["server_errors"],
    }
    print(json.dumps({"targets": targets}, indent=2))
    print(rows(rounds))
    print("OK: every answer 200" if ok else "FAILED: see above")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
