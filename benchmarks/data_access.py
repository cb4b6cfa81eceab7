"""Data access on PostgreSQL: granted accesses per second through the API, next to a bare Flask view, and the
citizen's access log with 10,000 entries (targets: ≥ 10 % of the bare view; p95 ≤ 150 ms and a constant number
of SQL queries per page).

    .venv/bin/python benchmarks/data_access.py                                  # 10,000 entries, 2 rounds of 10 s
    .venv/bin/python benchmarks/data_access.py --entries 1000 --seconds 5 --rounds 1   # a quick run
    .venv/bin/python benchmarks/data_access.py --after-commit worker   # audit events chained by `flask worker`

Makes a temporary PostgreSQL database (migrations) and, in this process, the tests' data-access world
(tests/dataaccess/builders.py: Bauamt owns the building permits, the Verkehrsamt reads them), an agreement approved
through the real four-eyes flow with the highest hourly limit (100,000, so that no request of the run is refused),
SUBJECTS further citizens with one permit record each, and a machine client: an API token with the scope
`dataaccess` bound to the Verkehrsamt and the agreement (portal.accounts.tokens.create_token and
dataaccess.services.clients.bind_client, what `flask tokens create` and `flask dataaccess bind-client` call). The
citizen's log is filled through the real `dataaccess.services.access.read` (real chained audit events): ENTRIES
accesses about one citizen by a clerk, every 20th a refused attempt, and 10 about a second citizen.

Two gunicorns with the same settings (4 sync workers) serve the portal (production config, rate limits of the
web server off: all load comes from one address) and the bare Flask view (benchmarks/bare_app.py). wrk measures,
per round: the bare view, `POST /api/v1/dataaccess/access` with the bearer token (each request another subject
and case reference), the bare view again; then, signed in as the citizen through the login form, page 1 and the
last page of /konto/datenzugriffe and GET /api/v1/me/data-access, next to the bare view with the same wrk
settings. The SQL statements per request are counted in-process (before_cursor_execute) for 10 and for ENTRIES
entries. Afterwards: 0 non-2xx, every granted log entry of the client matched by a 200 answer (plus the requests
wrk had sent but no longer read when it stopped), none refused, and `flask audit verify`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
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
from data_access_checks import BackendStates, audit_verify, check_round, logged_accesses, rate_counter
from serving import WRK_SCRIPT, free_port, portal_config, start_flask_worker, start_gunicorn, wrk

ACCESS_PATH = "/api/v1/dataaccess/access"
PAGE = "/konto/datenzugriffe"
ME_API = "/api/v1/me/data-access"
FIELDS = ["aktenzeichen", "status"]
REFUSED_EVERY = 20  # every 20th seeded entry is a refused attempt (a field the agreement does not allow)
FEW = 10

# Counts the answers per thread and keeps the case reference of every granted access whose answer wrk read; written
# to a file when wrk is done (after webhooks.WRK_SCRIPT's RESULT line). At its deadline wrk stops without reading
# the answers still in flight (at most one per connection): those accesses are granted and logged all the same.
COUNT_LUA = """
local threads = {}
setup = function(thread) thread:set("id", #threads); table.insert(threads, thread) end
init = function(args) ok = 0; other = 0; answered = {}; refused = "" end
response = function(status, headers, body)
  if status ~= 200 then
    other = other + 1
    if other == 1 then refused = status .. " " .. body:sub(1, 300):gsub("%%s+", " ") end
    return
  end
  ok = ok + 1
  local ref = body:match('"case_reference": ?"([^"]+)"')
  if ref then answered[#answered + 1] = ref end
end
local report = done
done = function(summary, latency, requests)
  report(summary, latency, requests)
  local o, x, refs, first = 0, 0, {}, ""
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); x = x + t:get("other")
    if first == "" then first = t:get("refused") end
    for _, ref in ipairs(t:get("answered")) do refs[#refs + 1] = ref end
  end
  local f = io.open("%(counts)s", "w")
  f:write(string.format("%%d %%d %%s\\n", o, x, first), table.concat(refs, "\\n"))
  f:close()
end
"""
ACCESS_LUA = """
local subjects = {%(subjects)s}
local sent = 0
request = function()
  sent = sent + 1
  local body = string.format('{"agreement":"%(agreement)s","purpose":"%(purpose)s",'
    .. '"case_reference":"VA-%(round)s-%%d-%%d","subject":%%d,"fields":["aktenzeichen","status"]}',
    id, sent, subjects[(sent + id) %% #subjects + 1])
  return wrk.format("POST", "%(path)s", {["Authorization"] = "Bearer %(token)s",
    ["Content-Type"] = "application/json"}, body)
end
"""


def config(url: str, key_file: str, base_url: str) -> dict[str, Any]:
    """The webhooks benchmark's production settings (production refuses to start without a payment provider);
    no payment is made here, so its Stripe address is never called."""
    return portal_config(url, "http://127.0.0.1:9", key_file, base_url)


# --- setting up ---------------------------------------------------------------------------------------------


def seed(cfg: dict[str, Any], entries: int, subjects: int) -> dict[str, Any]:
    """The world, the agreement, the client, the subjects and the citizen's log, through the services."""
    from dataaccess.errors import AccessRefused
    from dataaccess.services import access, records
    from dataaccess.services.agreements import RATE_LIMIT_MAX
    from dataaccess.services.clients import bind_client
    from portal import create_app
    from portal.accounts.tokens import create_token
    from portal.actors import SYSTEM, Actor
    from portal.extensions import db
    from tests.builders import PASSWORD, make_user
    from tests.dataaccess.builders import approved_agreement, make_world

    app = create_app(cfg, env="test")
    with app.app_context():
        world = make_world()
        agreement = approved_agreement(world, rate_limit_per_hour=RATE_LIMIT_MAX)
        token, raw = create_token(SYSTEM, "Verkehrsamt-Fachverfahren", ["dataaccess"])
        bind_client(SYSTEM, token.id, world.verkehr.id, agreement.reference)
        subject_ids = []
        for n in range(subjects):
            user = make_user(f"person{n}@example.org", display_name=f"Person {n}")
            records.put_record(
                SYSTEM,
                "bauamt.baugenehmigungen",
                f"BG-2026-{n + 1000:04d}",
                records.Subject(user_id=user.id),
                {"aktenzeichen": f"BG-2026-{n + 1000:04d}", "status": "genehmigt", "vorhaben": "Carport"},
            )
            subject_ids.append(user.id)
        clerk = Actor.for_user(world.official)
        began = time.perf_counter()
        for citizen, count in ((world.citizen, entries), (world.other_citizen, FEW)):
            for n in range(count):
                wanted = [*FIELDS, "geburtsdatum"] if n % REFUSED_EVERY == REFUSED_EVERY - 1 else FIELDS
                with contextlib.suppress(AccessRefused):
                    access.read(clerk, agreement.reference, world.purpose.code, f"VA-2026-{n:05d}", citizen.id, wanted)
        seconds = time.perf_counter() - began
        found = {
            "agreement": agreement.reference,
            "purpose": world.purpose.code,
            "token": raw,
            "token_id": token.id,
            "subjects": subject_ids,
            "many": {"id": world.citizen.id, "email": world.citizen.email},
            "few": {"id": world.other_citizen.id, "email": world.other_citizen.email},
            "password": PASSWORD,
            "seed_reads_per_s": round((entries + FEW) / seconds, 1),
        }
        db.engine.dispose()
    engine = sa.create_engine(cfg["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))  # as autovacuum would have done on a live table
    engine.dispose()
    return found


# --- in-process: statements and time per request --------------------------------------------------------------


def in_process(cfg: dict[str, Any], seeded: dict[str, Any], entries: int, repeat: int = 50) -> dict[str, Any]:
    """Statements per request for the citizen with FEW and with ENTRIES entries, and for one API access; mean ms
    one at a time (no server, no concurrency), to show where the time goes. Each request runs in an app context
    of its own, as under gunicorn (an outer one would keep the signed-in user and the ORM session between them)."""
    from dataaccess.services import access
    from portal import create_app
    from portal.accounts.models import ApiToken, User
    from portal.actors import Actor
    from portal.extensions import db
    from tests.portal.audit.helpers import sign_in

    app = create_app(cfg, env="test")
    seen: list[str] = []
    found: dict[str, Any] = {}
    clients = {who: app.test_client() for who in ("few", "many")}
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
        for who, client in clients.items():
            sign_in(client, db.session.get(User, seeded[who]["id"]))

    def measure(label: str, call: Any) -> None:
        call()  # warm-up
        seen.clear()
        started = time.perf_counter()
        for _ in range(repeat):
            response = call()
            assert getattr(response, "status_code", 200) == 200, (label, response.data[:300])
        found[label] = {
            "statements": len(seen) / repeat,
            "ms": round((time.perf_counter() - started) / repeat * 1000, 2),
        }

    last_page = -(-entries // 25)
    for who, client in clients.items():
        measure(f"page_{who}", lambda c=client: c.get(PAGE))
        measure(f"me_api_{who}", lambda c=client: c.get(ME_API))
    measure("page_many_last", lambda: clients["many"].get(f"{PAGE}?page={last_page}"))
    client = app.test_client()
    body = {"agreement": seeded["agreement"], "purpose": seeded["purpose"], "fields": FIELDS}
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    subject = seeded["subjects"][0]
    body = {**body, "case_reference": "VA-IN-PROCESS", "subject": subject}
    measure("api_access", lambda: client.post(ACCESS_PATH, json=body, headers=headers))

    def read() -> Any:
        with app.app_context():
            actor = Actor.for_token(db.session.get(ApiToken, seeded["token_id"]))
            return access.read(actor, seeded["agreement"], seeded["purpose"], "VA-IN-PROCESS", subject, FIELDS)

    measure("read_service_call_with_token_lookup", read)
    with app.app_context():
        db.engine.dispose()
    return found


# --- over HTTP ----------------------------------------------------------------------------------------------


def session_cookie(base: str, email: str, password: str) -> str:
    """Sign in through the login form, as a browser would; the session cookie (sent by hand: it is Secure)."""
    from tests.builders import csrf_from

    form = httpx.get(f"{base}/anmelden")
    answer = httpx.post(
        f"{base}/anmelden",
        data={"csrf_token": csrf_from(form.text), "email": email, "password": password},
        headers={"Cookie": f"session={form.cookies['session']}"},
    )
    if answer.status_code != 302 or "session" not in answer.cookies:
        raise RuntimeError(f"sign-in failed: {answer.status_code} {answer.text[:300]}")
    return answer.cookies["session"]


def counted_wrk(url: str, seconds: int, tmp: Path, lua: str, threads: int, connections: int) -> dict[str, Any]:
    counts = tmp / "counts.txt"
    script = tmp / "counted.lua"
    script.write_text(WRK_SCRIPT + lua + COUNT_LUA % {"counts": counts})
    found: dict[str, Any] = wrk(url, seconds, str(script), threads, connections)
    first, *refs = counts.read_text().split("\n")
    ok, other, *refused = first.split(" ", 2)
    found.update(ok=int(ok), non_200=int(other))
    if refused and refused[0].strip():
        found["first_non_200"] = refused[0].strip()
    if refs and refs != [""]:
        found["answered"] = refs
    return found


def measure_http(cfg: dict[str, Any], seeded: dict[str, Any], args: argparse.Namespace, tmp: Path) -> dict:
    port, bare_port = free_port(), free_port()
    base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
    cfg = {**cfg, "BASE_URL": base, "AUDIT_SEQUENCE_AFTER_COMMIT": args.after_commit}
    plain = tmp / "plain.lua"
    plain.write_text(WRK_SCRIPT)
    rounds, answered, warm_ok = [], {}, 0
    with (tmp / "gunicorn.log").open("wb") as log:
        try:
            server = start_gunicorn(f"portal:create_app({cfg!r}, 'production')", port, args.workers, log, "/healthz")
        except RuntimeError:
            sys.stderr.write((tmp / "gunicorn.log").read_text(errors="replace")[-3000:])
            raise
        bare_server = start_gunicorn("bare_app:app", bare_port, args.workers, log, "/")
        processes = [server, bare_server]
        if cfg.get("AUDIT_SEQUENCE_AFTER_COMMIT") == "worker":
            processes.append(start_flask_worker(f"portal:create_app({cfg!r}, 'production')", log))
        try:
            cookie = session_cookie(base, seeded["many"]["email"], seeded["password"])
            page_headers = {"Cookie": f"session={cookie}"}
            first = httpx.get(base + PAGE, headers=page_headers)
            if first.status_code != 200 or "Baugenehmigungen" not in first.text:
                raise RuntimeError(f"the citizen's page answered {first.status_code}")
            body = {"agreement": seeded["agreement"], "purpose": seeded["purpose"], "fields": FIELDS}
            auth = {"Authorization": f"Bearer {seeded['token']}"}
            for n in range(20):  # every worker's imports and database connection
                httpx.get(f"{bare}/")
                httpx.get(base + PAGE, headers=page_headers)
                answer = httpx.post(
                    base + ACCESS_PATH,
                    json={**body, "case_reference": f"VA-WARM-{n}", "subject": seeded["subjects"][n % 2]},
                    headers=auth,
                )
                warm_ok += answer.status_code == 200
            last_page = -(-args.entries // 25)
            cookie_lua = f'wrk.headers["Cookie"] = "session={cookie}"\n'
            subjects = ",".join(map(str, seeded["subjects"]))
            s, t, c = args.seconds, args.threads, args.connections
            for n in range(args.rounds):
                access_lua = ACCESS_LUA % {**seeded, "subjects": subjects, "round": n + 1, "path": ACCESS_PATH}
                found: dict[str, Any] = {"round": n + 1, "load_avg": round(os.getloadavg()[0], 1)}
                found["bare_before"] = wrk(f"{bare}/", s, str(plain), t, c)
                with BackendStates(cfg["SQLALCHEMY_DATABASE_URI"]) as states:
                    found["access"] = counted_wrk(base + ACCESS_PATH, s, tmp, access_lua, t, c)
                total = sum(states.values()) or 1
                found["access"]["db_sessions"] = {k: round(m / total, 3) for k, m in states.most_common(10)}
                answered[n + 1] = found["access"].pop("answered", [])
                found["bare_after"] = wrk(f"{bare}/", s, str(plain), t, c)
                found["bare_page_settings"] = wrk(f"{bare}/", s, str(plain), 1, args.page_connections)
                for label, path in (("page_1", PAGE), ("page_last", f"{PAGE}?page={last_page}"), ("me_api", ME_API)):
                    found[label] = counted_wrk(base + path, s, tmp, cookie_lua, 1, args.page_connections)
                    found[label].pop("answered", None)  # the log lists case references too
                found["load_avg_after"] = round(os.getloadavg()[0], 1)
                bare_mean = (found["bare_before"]["req_per_s"] + found["bare_after"]["req_per_s"]) / 2
                found["access_ratio"] = round(found["access"]["req_per_s"] / bare_mean, 4)
                for label in ("page_1", "page_last", "me_api"):
                    ratio = found[label]["req_per_s"] / found["bare_page_settings"]["req_per_s"]
                    found[f"{label}_ratio"] = round(ratio, 4)
                rounds.append(found)
                print(json.dumps(found), flush=True)
        finally:
            for process in processes:
                process.terminate()  # graceful: requests still in flight are finished first
                process.wait(timeout=30)
    errors = [line for line in (tmp / "gunicorn.log").read_text(errors="replace").splitlines() if "ERROR" in line]
    return {"rounds": rounds, "answered": answered, "warm_up_granted": warm_ok, "server_errors": errors[:20]}


# --- reporting ----------------------------------------------------------------------------------------------


def rows(rounds: list[dict[str, Any]]) -> str:
    """Markdown rows for benchmarks/README.md."""
    stamp = time.strftime("%Y-%m-%d %H:%M")
    lines = []
    for r in rounds:
        a = r["access"]
        lines.append(
            f"| {stamp} r{r['round']} | {r['load_avg']:.1f}–{r['load_avg_after']:.1f} "
            f"| {r['bare_before']['req_per_s']:,.0f} / {r['bare_after']['req_per_s']:,.0f} "
            f"| **{a['req_per_s']:,.0f}** | **{r['access_ratio'] * 100:.1f} %** "
            f"| {a['p50_ms']:.0f} / {a['p95_ms']:.0f} ms "
            f"| {r['bare_page_settings']['req_per_s']:,.0f} "
            + " ".join(
                f"| {r[k]['req_per_s']:,.0f} ({r[f'{k}_ratio'] * 100:.1f} %), p95 **{r[k]['p95_ms']:.0f} ms**"
                for k in ("page_1", "page_last", "me_api")
            )
            + " |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000, help="access-log entries about one citizen")
    parser.add_argument("--subjects", type=int, default=20, help="citizens the API benchmark reads about")
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads for the API and its bare view")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for the API and its bare view")
    parser.add_argument("--page-connections", type=int, default=4, help="wrk connections (1 thread) for the pages")
    parser.add_argument("--server", default=SERVER_URL)
    parser.add_argument(
        "--after-commit",
        choices=("thread", "worker"),
        default="thread",
        help="who chains the accesses' audit events: each gunicorn worker's sequencer thread, or `flask worker`",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")

    with temporary_database(args.server) as url, tempfile.TemporaryDirectory() as tmp:
        cfg = config(url, str(Path(tmp) / "audit-key.pem"), "http://127.0.0.1")
        began = time.perf_counter()
        seeded = seed(cfg, args.entries, args.subjects)
        print(json.dumps({"seeded_in_s": round(time.perf_counter() - began, 1), **seeded}, default=str), flush=True)
        counted = in_process(cfg, seeded, args.entries)
        print(json.dumps({"in_process": counted, "load_avg": round(os.getloadavg()[0], 1)}), flush=True)
        http = measure_http(cfg, seeded, args, Path(tmp))
        rounds = http["rounds"]
        for found in rounds:  # the servers are stopped: every request they took is finished
            found["checks"] = check_round(
                url, seeded["token_id"], found, http["answered"].pop(found["round"]), args.connections
            )
        warm = logged_accesses(url, seeded["token_id"], "VA-WARM-")
        rate_count = rate_counter(url, seeded["token_id"], seeded["agreement"])
        verified = audit_verify(cfg)
    pages = ("page_1", "page_last", "me_api")
    checks = {
        "rounds": [r["checks"] for r in rounds],
        "warm_up": {"answers_200": http["warm_up_granted"], "granted_log_entries": sum(warm["granted"].values())},
        "pages_non_2xx": sum(r[k]["non_200"] + r[k]["errors"] for r in rounds for k in pages),
        "statements_10_vs_many": {
            k: (counted[f"{k}_few"]["statements"], counted[f"{k}_many"]["statements"]) for k in ("page", "me_api")
        },
        "audit_verify": verified,
        "rate_counter_at_the_end": rate_count,
        "server_errors": http["server_errors"],
    }
    ok = (
        all(r["checks"]["ok"] for r in rounds)
        and http["warm_up_granted"] == sum(warm["granted"].values()) == 20
        and checks["pages_non_2xx"] == 0
        and all(few == many for few, many in checks["statements_10_vs_many"].values())
        and verified[0] == 0
        and not http["server_errors"]
    )
    print(json.dumps({"checks": checks}, indent=2))
    print(rows(rounds))
    print("OK: every access granted and logged once, statements constant" if ok else "FAILED: see above")
    summary = {
        "access_ratio": [r["access_ratio"] for r in rounds],
        "p95_ms": {k: [r[k]["p95_ms"] for r in rounds] for k in pages},
        "median_p95_ms": {k: statistics.median(r[k]["p95_ms"] for r in rounds) for k in pages},
    }
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
