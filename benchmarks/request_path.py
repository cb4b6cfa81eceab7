"""The portal's fixed cost per request, as a share of a bare Flask JSON view served the same way in the same run.

    .venv/bin/python benchmarks/request_path.py                      # 3 rounds of 10 s per endpoint
    .venv/bin/python benchmarks/request_path.py --seconds 5 --rounds 1

Targets (issue "Performance and scale-out"): the liveness probe `/healthz` >= 70 % and the public home page
>= 40 % of the bare view. Makes a temporary PostgreSQL database (migrations), then starts three gunicorns with
the same settings (4 sync workers, production config, rate limits of the web server off: all load comes from one
address): the bare view (benchmarks/bare_app.py), the portal, and the portal with the page cache switched off
(PAGE_CACHE_SECONDS=0), which shows what rendering the home page costs. Per round, wrk (2 threads, 16
connections, as ../shared/ANCHORS.md measures the bare view) runs the bare view before and after each endpoint;
each ratio is to the mean of those two bare runs, because the machine's load drifts. Endpoints: `/healthz`
(liveness, no I/O), `/readyz` (readiness: one `SELECT 1`), the home page for a signed-out visitor (cached per
worker and language) and without the cache, and `/impressum`. Every answer must be 200; the run fails otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_verify import SERVER_URL, temporary_database
from serving import WRK_SCRIPT, free_port, portal_config, start_gunicorn, wrk

ENDPOINTS = {
    "healthz": ("portal", "/healthz"),
    "readyz": ("portal", "/readyz"),
    "home": ("portal", "/"),
    "home_uncached": ("uncached", "/"),
    "impressum": ("portal", "/impressum"),
}


def measure(cfg: dict[str, Any], args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    script = tmp / "plain.lua"
    script.write_text(WRK_SCRIPT)
    ports = {"bare": free_port(), "portal": free_port(), "uncached": free_port()}
    specs = {
        "bare": "bare_app:app",
        "portal": f"portal:create_app({cfg!r}, 'production')",
        "uncached": f"portal:create_app({ {**cfg, 'PAGE_CACHE_SECONDS': 0}!r}, 'production')",
    }
    servers = []
    rounds: list[dict[str, Any]] = []
    with (tmp / "gunicorn.log").open("wb") as log:
        try:
            for name, spec in specs.items():
                probe = "/" if name == "bare" else "/healthz"
                servers.append(start_gunicorn(spec, ports[name], args.workers, log, probe))
            bare = f"http://127.0.0.1:{ports['bare']}/"
            for server, path in ENDPOINTS.values():  # every worker's imports, templates and connections
                wrk(f"http://127.0.0.1:{ports[server]}{path}", 1, str(script), args.threads, args.connections)
            wrk(bare, 1, str(script), args.threads, args.connections)
            for r in range(args.rounds):
                found: dict[str, Any] = {"round": r + 1, "load_avg": round(os.getloadavg()[0], 1)}
                before = wrk(bare, args.seconds, str(script), args.threads, args.connections)
                found["bare"] = [before]
                for label, (server, path) in ENDPOINTS.items():
                    result = wrk(f"http://127.0.0.1:{ports[server]}{path}", args.seconds, str(script), args.threads,
                                 args.connections)  # fmt: skip
                    after = wrk(bare, args.seconds, str(script), args.threads, args.connections)
                    result["ratio"] = round(result["req_per_s"] / ((before["req_per_s"] + after["req_per_s"]) / 2), 3)
                    found[label] = result
                    found["bare"].append(after)
                    before = after
                found["load_avg_after"] = round(os.getloadavg()[0], 1)
                rounds.append(found)
                print(json.dumps(found), flush=True)
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)
    return rounds


def table(rounds: list[dict[str, Any]]) -> str:
    lines = ["| round | load | bare req/s | " + " | ".join(ENDPOINTS) + " |", "|---" * (len(ENDPOINTS) + 3) + "|"]
    for r in rounds:
        bare = statistics.mean(b["req_per_s"] for b in r["bare"])
        cells = [f"{r[k]['req_per_s']:,.0f} ({r[k]['ratio']:.0%}, p95 {r[k]['p95_ms']} ms)" for k in ENDPOINTS]
        lines.append(f"| {r['round']} | {r['load_avg']} | {bare:,.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--server", default=SERVER_URL)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    with temporary_database(args.server) as url, tempfile.TemporaryDirectory() as tmp:
        cfg = portal_config(url, "http://127.0.0.1:9", str(Path(tmp) / "audit-key.pem"), "http://127.0.0.1")
        rounds = measure(cfg, args, Path(tmp))
    print(table(rounds))
    errors = sum(r[k]["errors"] for r in rounds for k in ENDPOINTS)
    medians = {k: statistics.median(r[k]["ratio"] for r in rounds) for k in ENDPOINTS}
    print(json.dumps({"median_ratio": medians, "non_2xx_or_socket_errors": errors}))
    if errors:
        print("FAILED: some answers were not 200 (see the gunicorn log)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
