"""gunicorn's settings for the portal: `gunicorn -c gunicorn.conf.py wsgi:app` (README, "Running it for real").

- A health listener of its own (GUNICORN_HEALTH_BIND, default 127.0.0.1:8001), answered by the master
  process: `GET /healthz` there says 200 while the master runs and has its workers, however busy they are.
  On the main port a load balancer's `GET /healthz` waits in the queue behind every booking (over 5 s with
  100 clients on 4 sync workers, issue 11, finding 8); point the balancer's liveness check at this one and
  its readiness check at `/readyz` on the main port (`benchmarks/health_under_load.py` measures both).
- Threaded workers (gthread): each worker takes as many requests as it has threads, so one slow request
  does not hold up the cheap ones behind it.
- The worker count is exported as WEB_CONCURRENCY, so the app (portal.config) sees how many processes share
  its in-memory state and refuses, in production, what is only right for one: rate limits in memory, metrics
  without PROMETHEUS_MULTIPROC_DIR.
- PROMETHEUS_MULTIPROC_DIR: every worker writes its metrics there and a scrape of /metrics sums them. The
  directory is emptied when gunicorn starts (numbers of an earlier run would be counted again), and a worker
  that exits is marked dead (prometheus_client's `mark_process_dead`).

Every value can be set from the environment: WEB_CONCURRENCY (workers, default 2 per core), GUNICORN_THREADS
(default 8), GUNICORN_BIND (default 127.0.0.1:8000), GUNICORN_HEALTH_BIND (default 127.0.0.1:8001; empty
switches it off), GUNICORN_TIMEOUT (default 30).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count())
worker_class = "gthread"
# Each thread may hold one database connection: workers × threads (plus the `flask worker`s) must stay below
# PostgreSQL's max_connections, and threads at or below the pool (SQLAlchemy's 5 + 10 overflow per process).
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
backlog = 2048
# Behind a load balancer: keep its connections a little longer than it keeps them idle (nginx: 60 s upstream).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))


health_bind = os.environ.get("GUNICORN_HEALTH_BIND", "127.0.0.1:8001")
_health_server: ThreadingHTTPServer | None = None


def _health_handler(arbiter: Any) -> type[BaseHTTPRequestHandler]:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/healthz":
                self.send_error(404)
                return
            workers = len(arbiter.WORKERS)
            status = 200 if workers else 503
            body = json.dumps({"status": "ok" if workers else "no workers", "workers": workers}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Health


def when_ready(server: Any) -> None:
    """Start the health listener in the master, once the main socket listens."""
    global _health_server
    if not health_bind:
        return
    host, _, port = health_bind.rpartition(":")
    _health_server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), _health_handler(server))
    _health_server.daemon_threads = True
    threading.Thread(target=_health_server.serve_forever, name="health", daemon=True).start()
    server.log.info("Health listener at http://%s/healthz", health_bind)


def post_fork(server: Any, worker: Any) -> None:
    """A worker does not serve the master's health socket: close its inherited copy."""
    if _health_server is not None:
        _health_server.socket.close()


def on_starting(server: Any) -> None:
    """In the master, before any worker starts: tell the app how many workers there are, and start the metrics
    directory empty."""
    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended (restarted, killed, timed out): its live gauges no longer count."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
