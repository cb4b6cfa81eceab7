"""Two hosts, one database: two gunicorns in two network namespaces behind nginx, one PostgreSQL, one Redis.
Does every guarantee that holds on one host hold across two? (must run as root)

    .venv/bin/python benchmarks/two_hosts.py             # the full run: 8-10 minutes on a busy 2-core machine
    .venv/bin/python benchmarks/two_hosts.py --clients 300 --window 10 --jobs-seconds 70   # a quicker run

The script makes its own network: a bridge in the root namespace with the gateway address x.1 of a private /24
and two namespaces ("hosts") joined to it by veth pairs, at x.11 and x.12; everything is removed on exit, also
after a failure or SIGTERM. Each host runs its own gunicorn (4 sync workers, production config, bound to its own
address) serving the portal, another one serving the bare Flask view (bare_app.py, the denominator), and later
its background worker: `flask worker` (outbox and jobs in one process) where the app has it, else `flask outbox
run` and `flask jobs run`. nginx (from Debian) listens on 127.0.0.1 and balances round robin over both hosts,
passing the client's address in X-Forwarded-For (PROXY_FIX_HOPS=1) and logging which host answered.

How the hosts reach the shared services: PostgreSQL listens on 127.0.0.1 only, but its Unix socket directory is
shared by every namespace, so the hosts connect through /var/run/postgresql; the machine's Redis (127.0.0.1:6379,
no socket) is forwarded by socat from the gateway address; the SMTP server (aiosmtpd, in this process) listens on
the gateway address. Rate limits are on, stored in that Redis.

Checks, in order: the booking race across both hosts (N clients, one seat: one 201); the release burst of
release_burst.py through nginx; a shared rate limit (a location allowing 10 bookings per hour and address: 30
tries from one address through both hosts must get exactly 10 through); search consistency (a seat booked on
host A is never offered by host B afterwards, over many rounds with B's workers warmed first); outbox mail sent
once (both hosts' workers drain the queue into one SMTP server: each Message-ID once); scheduled jobs once per
interval (the hosts' workers start JOB_STAGGER seconds apart, as hosts do; from their logs, each job's runs on
both hosts merged into one timeline: no two runs closer together than the job's interval).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit_verify import SERVER_URL, temporary_database
from booking_race import workday
from burst_clients import arrivals, run_burst, summarise
from hosts_checks import (
    PLACES,
    PORTAL_PORT,
    Access,
    by_host,
    check_race,
    check_rate_limit,
    check_search_consistency,
    count_job_runs,
    drain_outbox,
    job_intervals,
)
from hosts_support import Network, SmtpCounter, nginx_config, stop
from release_burst import UNITS_PER_DAY, Releaser, burst_config, check_database, memory_mb, seed, workers_of
from serving import WRK_SCRIPT, free_port, wrk

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BARE_PORT = 8001
JOB_STAGGER = 7.0  # seconds between the two hosts' job workers starting


def requirements() -> list[str]:
    missing = []
    if os.geteuid() != 0:
        missing.append("run as root (network namespaces)")
    for tool, package in (("ip", "iproute2"), ("nginx", "nginx"), ("socat", "socat"), ("wrk", "wrk")):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            missing.append(f"{tool}: apt-get install -y {package}")
    return missing


def spawn(command: list[str], log: IO[bytes], netns: str | None = None) -> subprocess.Popen:
    # `ip netns exec` execs the command, so the Popen's pid is the command's own (gunicorn's master).
    prefix = ["ip", "netns", "exec", netns] if netns else []
    env = {**os.environ, "STADTPORTAL_ENV": "production"}
    return subprocess.Popen([*prefix, *command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_http(url: str, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}; see its log")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def socket_url(url: str) -> str:
    """The database URL through PostgreSQL's Unix socket, which every namespace shares."""
    name = url.rsplit("/", 1)[1]
    return f"postgresql+psycopg://root@/{name}?host=/var/run/postgresql"


def gunicorn(app_spec: str, address: str, port: int, workers: int) -> list[str]:
    return [
        str(BIN / "gunicorn"),
        "--workers", str(workers),
        "--worker-class", "sync",
        "--bind", f"{address}:{port}",
        "--backlog", "2048",
        "--log-level", "warning",
        "--pythonpath", str(ROOT / "benchmarks"),
        app_spec,
    ]  # fmt: skip


# --- the run ---------------------------------------------------------------------------------------------------


@contextmanager
def terminate_cleanly() -> Iterator[None]:
    """SIGTERM and SIGHUP end the run through the same exits as an error, so the network is removed."""

    def _exit(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, _exit) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000, help="release burst")
    parser.add_argument("--window", type=float, default=60.0, help="release burst: seconds of arrivals")
    parser.add_argument("--race-clients", type=int, default=200)
    parser.add_argument("--cache-rounds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers per host")
    parser.add_argument("--jobs-seconds", type=float, default=130, help="how long the job workers run")
    parser.add_argument("--bare-seconds", type=int, default=10)
    parser.add_argument("--subnet", default="10.213.7", help="the private /24 (first three octets)")
    parser.add_argument("--server", default=SERVER_URL)
    parser.add_argument("--redis", default="127.0.0.1:6379", help="the machine's Redis, forwarded to the hosts")
    parser.add_argument(
        "--shared-search-cache",
        action="store_true",
        help="search answers cached in the same Redis (APPOINTMENTS_SEARCH_CACHE_URL) instead of per worker",
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="extra app config")
    args = parser.parse_args()
    missing = requirements()
    if missing:
        sys.exit("two_hosts.py needs: " + "; ".join(missing))
    extra = {key: json.loads(value) for key, value in (item.split("=", 1) for item in args.set)}

    rng = random.Random(20261130)
    results: dict[str, Any] = {}
    with terminate_cleanly(), ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(temporary_database(args.server))
        seeded = seed(url, workday(), list(PLACES.values()))
        net = stack.enter_context(Network(args.subnet, tag=str(os.getpid() % 10000)))
        hosts = {"A": net.addresses[0], "B": net.addresses[1]}
        names = ("socat", "nginx", "A", "B", "jobs-A", "jobs-B")
        logs = {name: stack.enter_context((tmp / f"{name}.log").open("wb")) for name in names}

        redis_host, redis_port = args.redis.rsplit(":", 1)
        socat = spawn(
            ["socat", f"TCP-LISTEN:6379,bind={net.gateway},reuseaddr,fork", f"TCP:{redis_host}:{redis_port}"],
            logs["socat"],
        )
        stack.callback(stop, socat)
        smtp = stack.enter_context(SmtpCounter(net.gateway))

        port, bare_port = free_port(), free_port()
        base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
        config = {
            **burst_config(socket_url(url), str(tmp / "audit-key.pem"), base, f"redis://{net.gateway}:6379/0", 1),
            "MAIL_SERVER": net.gateway,
            "MAIL_PORT": smtp.port,
        }
        if args.shared_search_cache:
            config["APPOINTMENTS_SEARCH_CACHE_URL"] = f"redis://{net.gateway}:6379/0"
            config["APPOINTMENTS_SEARCH_CACHE_PREFIX"] = f"{config['RATELIMIT_KEY_PREFIX']}:slots"
        config.update(extra)
        app_spec = f"portal:create_app({config!r}, 'production')"
        servers = {}
        for name, (netns, address) in zip(hosts, zip(net.namespaces, net.addresses, strict=True), strict=True):
            servers[name] = spawn(gunicorn(app_spec, address, PORTAL_PORT, args.workers), logs[name], netns)
            stack.callback(stop, servers[name])
            bare_server = spawn(gunicorn("bare_app:app", address, BARE_PORT, args.workers), logs[name], netns)
            stack.callback(stop, bare_server)
            wait_http(f"http://{address}:{PORTAL_PORT}/healthz", servers[name])
            wait_http(f"http://{address}:{BARE_PORT}/", bare_server)

        conf = tmp / "nginx.conf"
        conf.write_text(nginx_config(tmp, port, bare_port, hosts.values(), PORTAL_PORT, BARE_PORT))
        nginx = spawn(["nginx", "-e", str(tmp / "nginx-error.log"), "-p", str(tmp), "-c", str(conf)], logs["nginx"])
        stack.callback(stop, nginx)
        wait_http(f"{base}/healthz", nginx)
        access = Access(tmp / "access.log")
        for _ in range(40):  # both hosts' workers: imports, database connections
            httpx.get(f"{base}/healthz")
            httpx.get(f"{bare}/")

        script = tmp / "report.lua"
        script.write_text(WRK_SCRIPT)
        load = os.getloadavg()[0]
        results["bare_via_nginx"] = wrk(f"{bare}/", args.bare_seconds, str(script))
        results["race"] = check_race(url, port, seeded, args.race_clients, access, hosts)
        print(json.dumps({"race": results["race"]}), flush=True)

        burst_place = PLACES["burst"]
        release = Releaser(url, seeded, burst_place.name)
        planned = arrivals(args.clients, args.window, 3.0, rng)
        location = seeded["locations"][burst_place.name]
        access.since_last()
        citizens, wall = asyncio.run(
            run_burst(base, location, seeded["service"], seeded["day"], planned, rng, release=release)
        )
        seats = burst_place.counters * UNITS_PER_DAY
        references = [c.reference for c in citizens if c.reference]
        summary = summarise(citizens, wall, seats)
        checked = check_database(url, location, seeded["day"], burst_place.counters, references)
        results["burst"] = {
            **summary,
            "answered_by": by_host(access.since_last(), hosts),
            "database": checked,
            "worker_memory_mb": {
                name: [memory_mb(pid) for pid in workers_of(server.pid)] for name, server in servers.items()
            },
            "load_avg_after": round(os.getloadavg()[0], 1),
            "ok": summary["5xx"] == summary["connection_errors"] == summary["client_timeouts"] == 0
            and checked["every_seat_once"],
        }
        print(json.dumps({"burst": results["burst"]}, default=str), flush=True)

        results["rate_limit"] = check_rate_limit(base, seeded, access, hosts)
        results["search_consistency"] = check_search_consistency(seeded, hosts, args.cache_rounds, args.workers)
        print(json.dumps({k: results[k] for k in ("rate_limit", "search_consistency")}), flush=True)

        # The background work per host: `flask worker` (outbox and jobs in one process) where the app has it,
        # else `flask outbox run` and `flask jobs run`; the hosts start theirs JOB_STAGGER seconds apart.
        flask = [str(BIN / "flask"), "--app", app_spec]
        combined = hasattr(importlib.import_module("portal.jobs"), "worker_command")
        job_logs = {name: tmp / f"jobs-{name}.log" for name in hosts}
        job_workers, started = [], {}
        for n, (name, netns) in enumerate(zip(hosts, net.namespaces, strict=True)):
            if n:
                time.sleep(JOB_STAGGER)
            command = ["worker", "--tick", "1"] if combined else ["jobs", "run", "--tick", "1"]
            job_workers.append(spawn([*flask, *command], logs[f"jobs-{name}"], netns))
            started[name] = time.monotonic()
            stack.callback(stop, job_workers[-1])
            if not combined:
                stack.callback(stop, spawn([*flask, "outbox", "run", "--interval", "1"], logs[name], netns))
        results["background"] = "flask worker" if combined else "flask outbox run + flask jobs run"
        results["outbox"] = drain_outbox(url, smtp, seconds=240)
        print(json.dumps({"outbox": results["outbox"]}), flush=True)
        time.sleep(max(0.0, min(started.values()) + args.jobs_seconds - time.monotonic()))
        stopped = time.monotonic()
        for worker in job_workers:
            stop(worker)
        results["jobs"] = {
            "window_s": round(stopped - min(started.values()), 1),
            **count_job_runs(job_logs, job_intervals(url)),
        }
        results["load_avg_before"] = round(load, 1)

    print(json.dumps(results, indent=2, default=str))
    failed = [name for name, found in results.items() if isinstance(found, dict) and found.get("ok") is False]
    print("OK: every check held across two hosts" if not failed else f"FAILED: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
