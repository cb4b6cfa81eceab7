"""Prometheus metrics at /metrics for operators (a bearer token with the "metrics" scope).

Requests and latency per endpoint, and the mail outbox backlog. Each app has its own registry, so
building many apps (tests) never registers a metric twice. Under gunicorn with several workers, set
PROMETHEUS_MULTIPROC_DIR: every worker then writes its numbers there and a scrape sums them all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, has_app_context, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from portal import access
from portal.extensions import limiter

EXTENSION = "stadtportal_metrics"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Static files would drown the numbers that matter.
SKIPPED_PREFIXES = ("/static/", "/assets/")

bp = Blueprint("metrics", __name__)


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "stadtportal_http_requests",
            "HTTP requests answered, by endpoint, method and status",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "stadtportal_http_request_duration_seconds",
            "Time to answer an HTTP request, by endpoint and method",
            ["endpoint", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rate_limit_fallbacks = Counter(
            "stadtportal_rate_limit_fallbacks",
            "Times this worker's rate limits fell back to memory because the shared store (Redis) failed",
            registry=self.registry,
        )
        # livesum: how many live workers count limits on their own right now (0 when all is well).
        self.rate_limit_on_fallback = Gauge(
            "stadtportal_rate_limit_on_fallback",
            "1 while this worker counts rate limits in its own memory instead of the shared store",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.registry.register(OutboxCollector())
        self.registry.register(JobCollector())
        # `labels()` checks and locks on every call; a label set's child is the same object for the app's life.
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def observe(self, endpoint: str, method: str, status: str, seconds: float) -> None:
        key = (endpoint, method, status)
        counted = self._counted.get(key)
        if counted is None:
            counted = self._counted[key] = self.requests.labels(*key)
        counted.inc()
        timed = self._timed.get(key[:2])
        if timed is None:
            timed = self._timed[key[:2]] = self.latency.labels(endpoint, method)
        timed.observe(seconds)


def outbox_backlog() -> int:
    """Mail not yet delivered nor given up (pending or sending)."""
    try:
        from portal.mail.delivery import outbox_backlog as delivery_backlog
    except ImportError:  # pragma: no cover - delivery ships with the core; counted here just in case
        pass
    else:
        return int(delivery_backlog())
    from portal.extensions import db
    from portal.mail.models import OutboxMessage

    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_(("pending", "sending")))
        )
        or 0
    )


class OutboxCollector(Collector):
    """Read at scrape time, so the gauge is as fresh as the database."""

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("stadtportal_outbox_backlog", "Mail messages waiting for delivery")

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily("stadtportal_outbox_backlog", "Mail messages waiting for delivery")
        gauge.add_metric([], outbox_backlog())
        yield gauge


class JobCollector(Collector):
    """The periodic jobs as the database records them (portal.job_runs): the same figures whichever host or
    worker process is scraped. Alert on a last success older than a few intervals."""

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        from portal.job_runs import all_runs

        last, runs, failures = self._families()
        for run in all_runs():
            if run["last_succeeded_at"] is not None:
                last.add_metric([run["name"]], run["last_succeeded_at"].timestamp())
            runs.add_metric([run["name"]], run["runs"])
            failures.add_metric([run["name"]], run["failures"])
        yield from (last, runs, failures)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, CounterMetricFamily, CounterMetricFamily]:
        return (
            GaugeMetricFamily(
                "stadtportal_job_last_success_timestamp_seconds", "When a periodic job last succeeded", labels=["job"]
            ),
            CounterMetricFamily("stadtportal_job_runs", "Finished runs of a periodic job, on any host", labels=["job"]),
            CounterMetricFamily("stadtportal_job_failures", "Failed runs of a periodic job", labels=["job"]),
        )


def _metrics() -> _Metrics:
    return current_app.extensions[EXTENSION]


def _observe(response: Response) -> Response:
    # Set by portal.observability in the first before_request hook, so requests refused by the access
    # rules (401, 403, redirects) are timed too.
    started = g.get("request_started")
    if started is None or request.path.startswith(SKIPPED_PREFIXES):
        return response
    # The endpoint name, never the raw path: ids in URLs would make the label set grow without end.
    endpoint = request.endpoint or ("unmatched" if response.status_code == 404 else "unknown")
    _metrics().observe(endpoint, request.method, str(response.status_code), time.perf_counter() - started)
    return response


@bp.get("/metrics")
@access.token("metrics")
def scrape() -> Response:
    """The Prometheus text exposition of this app's metrics."""
    registry = _metrics().registry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(OutboxCollector())
        registry.register(JobCollector())
    response = Response(generate_latest(registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


def _count_rate_limit_fallback(on_fallback: bool) -> None:
    # The limiter is one object for every app in the process; count for the app whose request hit the outage.
    metrics = current_app.extensions.get(EXTENSION) if has_app_context() else None
    if metrics is None:
        return
    if on_fallback:
        metrics.rate_limit_fallbacks.inc()
    metrics.rate_limit_on_fallback.set(1 if on_fallback else 0)


def init_app(app: Flask) -> None:
    if _count_rate_limit_fallback not in limiter.fallback_hooks:
        limiter.fallback_hooks.append(_count_rate_limit_fallback)
    if not app.config.get("METRICS_ENABLED", True):
        return
    app.extensions[EXTENSION] = _Metrics()
    app.after_request(_observe)
    app.register_blueprint(bp)
