"""What every benchmark shares: a free port, the portal's production settings with the local Stripe double, gunicorn
started the way production runs it, and wrk with a script that prints one parseable RESULT line."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sk_test_benchmark"
WEBHOOK_SECRET = "whsec_benchmark_" + "0" * 24
# A valid example IBAN other than the demo's: production refuses to start with the demo account.
IBAN, BIC = "DE89370400440532013000", "COBADEFFXXX"
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def portal_config(url: str, double_url: str, key_file: str, base_url: str) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "RATELIMIT_ENABLED": False,  # Stripe delivers from few addresses; the benchmark is about the events
        "AUDIT_SIGNING_KEY_FILE": key_file,
        "BASE_URL": base_url,
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": API_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": double_url,
        "PAYMENTS_STRIPE_METHODS": "card",
        "PAYMENTS_BANK_IBAN": IBAN,
        "PAYMENTS_BANK_BIC": BIC,
    }


def start_gunicorn(app_spec: str, port: int, workers: int, log: IO[bytes], probe: str) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers", str(workers),
        "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}",
        "--backlog", "2048",
        "--log-level", "warning",
        "--pythonpath", str(ROOT / "benchmarks"),
        app_spec,
    ]  # fmt: skip
    # gunicorn.conf.py applies (as in production), with two exceptions: its health listener's fixed port is off,
    # since benchmarks run several servers at once, and every server gets its own metrics directory, without which
    # production refuses several workers.
    env = {
        **os.environ,
        "STADTPORTAL_ENV": "production",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="stadtportal-bench-metrics-"),
        "GUNICORN_HEALTH_BIND": "",
    }
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({app_spec[:40]}…):\n{_tail(log)}")
    process.terminate()
    raise RuntimeError("gunicorn did not come up")


def start_flask_worker(app_spec: str, log: IO[bytes]) -> subprocess.Popen:
    """`flask worker` for the app, as production runs it beside gunicorn (the outbox left alone: no SMTP here)."""
    command = [str(Path(sys.executable).parent / "flask"), "--app", app_spec, "worker", "--no-mail"]
    env = {**os.environ, "STADTPORTAL_ENV": "production"}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wrk(url: str, seconds: int, script: str, threads: int = 2, connections: int = 16) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", output)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    requests, duration_us, p50, p95, socket_errors, status_errors = map(int, match.groups())
    return {
        "req_per_s": round(requests / (duration_us / 1e6), 1),
        "p50_ms": round(p50 / 1000, 2),
        "p95_ms": round(p95 / 1000, 2),
        "errors": socket_errors + status_errors,
    }


def _tail(log: IO[bytes], lines: int = 60) -> str:
    log.flush()
    try:
        return "\n".join(Path(log.name).read_text(errors="replace").splitlines()[-lines:])
    except (OSError, TypeError):
        return "(see its log)"
