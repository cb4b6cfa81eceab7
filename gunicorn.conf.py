"""gunicorn's settings for the portal: `gunicorn -c gunicorn.conf.py wsgi:app` (README, "Running it for real").

- Threaded workers (gthread). A sync worker serves one request at a time, so under a booking rush a load
  balancer's `GET /healthz` waited in the queue behind every booking (over 5 s with 100 clients on 4 workers,
  issue 11, finding 8). Each gthread worker takes as many requests as it has threads; `/healthz` does no I/O
  and is answered between them (`benchmarks/health_under_load.py` measures it).
- The worker count is exported as WEB_CONCURRENCY, so the app (portal.config) sees how many processes share
  its in-memory state and refuses, in production, what is only right for one: rate limits in memory, metrics
  without PROMETHEUS_MULTIPROC_DIR.
- PROMETHEUS_MULTIPROC_DIR: every worker writes its metrics there and a scrape of /metrics sums them. The
  directory is emptied when gunicorn starts (numbers of an earlier run would be counted again), and a worker
  that exits is marked dead (prometheus_client's `mark_process_dead`).

Every value can be set from the environment: WEB_CONCURRENCY (workers, default 2 per core), GUNICORN_THREADS
(default 8), GUNICORN_BIND (default 127.0.0.1:8000), GUNICORN_TIMEOUT (default 30).
"""

from __future__ import annotations

import multiprocessing
import os
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
