"""Does /healthz answer within a second while 100 clients book? (issue 11, finding 8)

    .venv/bin/python benchmarks/health_under_load.py                  # sync workers, then gunicorn.conf.py
    .venv/bin/python benchmarks/health_under_load.py --seconds 10 --only conf

Makes a temporary PostgreSQL database (migrations) with one location (one counter, 10-minute slots), then, for
each way of serving: starts gunicorn with 4 workers on a free loopback port, lets N clients (asyncio + httpx,
one connection each) post bookings back to back for the given time (each client its own e-mail address per
attempt; most attempts meet a taken slot and get 409, which costs the server the same search and
transaction), and meanwhile asks GET /healthz on a new connection every half second, as a load balancer
does. Ways of serving: "sync" is `gunicorn --worker-class sync -w 4` (what the README said before), "conf" is
`gunicorn -c gunicorn.conf.py -w 4` (gthread workers). Target: every health answer 200 within 1 s.
Not part of `make test`; `make benchmark` runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit_verify import SERVER_URL, temporary_database
from booking_race import free_port, seed
from serving import portal_config

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 1.0


def start(mode: str, url: str, port: int, health_port: int, workers: int, tmp: Path, log: Path) -> subprocess.Popen:
    config = portal_config(url, "http://127.0.0.1:9", str(tmp / "audit-key.pem"), f"http://127.0.0.1:{port}")
    serving = ["-c", str(ROOT / "gunicorn.conf.py")] if mode == "conf" else ["--worker-class", "sync"]
    command = [
        str(Path(sys.executable).parent / "gunicorn"), *serving,
        "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning",
        f"portal:create_app({config!r}, 'production')",
    ]  # fmt: skip
    metrics_dir = tmp / f"metrics-{port}"
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "STADTPORTAL_ENV": "production",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "GUNICORN_HEALTH_BIND": f"127.0.0.1:{health_port}",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn ({mode}) exited:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not come up")


async def load(
    port: int, probe_url: str, location: int, service: int, starts: list[str], clients: int, seconds: float
) -> dict:
    base = f"http://127.0.0.1:{port}"
    stop = time.monotonic() + seconds
    codes: Counter[int] = Counter()

    async def client(n: int) -> None:
        async with httpx.AsyncClient(timeout=120) as http:
            attempt = 0
            while time.monotonic() < stop:
                body = {
                    "services": [{"id": service, "quantity": 1}],
                    "location": location,
                    "start": starts[(n * 7 + attempt) % len(starts)],
                    "name": f"Person {n}",
                    "email": f"person{n}-{attempt}@example.org",
                }
                attempt += 1
                try:
                    response = await http.post(f"{base}/api/v1/appointments/bookings", json=body)
                    codes[response.status_code] += 1
                except httpx.HTTPError:
                    codes[0] += 1

    async def prober() -> list[tuple[int, float]]:
        answers = []
        await asyncio.sleep(1.0)  # let the load build up first
        while time.monotonic() < stop - 0.5:
            began = time.perf_counter()
            async with httpx.AsyncClient(timeout=30) as http:  # a new connection, as a load balancer probes
                try:
                    status = (await http.get(probe_url)).status_code
                except httpx.HTTPError:
                    status = 0
            answers.append((status, time.perf_counter() - began))
            await asyncio.sleep(0.5)
        return answers

    probe_task = asyncio.create_task(prober())
    await asyncio.gather(*(client(n) for n in range(clients)))
    health = await probe_task
    return {"codes": dict(codes), "health": health}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--only", choices=["sync", "conf"], help="measure one way of serving")
    parser.add_argument("--server", default=os.environ.get("BENCH_DATABASE_URL", SERVER_URL))
    args = parser.parse_args()
    # (serving, probe): sync workers probed on the main port (before), gunicorn.conf.py probed on the main port
    # and on its health listener (the balancer's liveness check).
    runs = [("sync", "main"), ("conf", "main"), ("conf", "health")]
    if args.only:
        runs = [run for run in runs if run[0] == args.only]

    print(
        f"| serving | probed | clients | workers | bookings 201 / 409 / 5xx / failed | health probes | max | p95 "
        f"| ≤ {TARGET_SECONDS:.0f} s |"
    )
    print("|---|---|---:|---:|---|---:|---:|---:|---|")
    verdict = True
    with temporary_database(args.server) as url, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        location, service, starts = seed(url, 60)
        for n, (mode, probed) in enumerate(runs):
            port, health_port = free_port(), free_port()
            log = tmp / f"gunicorn-{n}.log"
            server = start(mode, url, port, health_port, args.workers, tmp, log)
            probe_url = f"http://127.0.0.1:{health_port if probed == 'health' else port}/healthz"
            try:
                result = asyncio.run(load(port, probe_url, location, service, starts, args.clients, args.seconds))
            finally:
                server.terminate()
                server.wait(timeout=30)
            codes = result["codes"]
            times = sorted(seconds for _status, seconds in result["health"])
            ok_probes = all(status == 200 for status, _s in result["health"]) and times[-1] <= TARGET_SECONDS
            if probed == "health":
                verdict = verdict and ok_probes
            p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 2 else times[-1]
            fivexx = sum(n for status, n in codes.items() if status >= 500)
            answers = f"{codes.get(201, 0)} / {codes.get(409, 0)} / {fivexx} / {codes.get(0, 0)}"
            verdict_cell = "yes" if ok_probes else "NO"
            print(
                f"| {mode} | {probed} | {args.clients} | {args.workers} | {answers} | {len(times)} "
                f"| {times[-1]:.2f} s | {p95:.2f} s | {verdict_cell} |"
            )
    print("OK: the health listener answered within 1 s under load" if verdict else "FAILED: see above")
    return 0 if verdict else 1


if __name__ == "__main__":
    raise SystemExit(main())
