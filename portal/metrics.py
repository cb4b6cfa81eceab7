"""Prometheus metrics at /metrics for operators (a bearer token with the "metrics" scope).

Requests and latency per endpoint, and the mail outbox backlog. Each app has its own registry, so
building many apps (tests) never registers a metric twice. Under gunicorn with several workers, set
PROMETHEUS_MULTIPROC_DIR: every worker then writes its numbers there and a scrape sums them all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from portal import access

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
        self.registry.register(OutboxCollector())


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
    metrics = _metrics()
    metrics.requests.labels(endpoint, request.method, str(response.status_code)).inc()
    metrics.latency.labels(endpoint, request.method).observe(time.perf_counter() - started)
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
    response = Response(generate_latest(registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = _Metrics()
    app.after_request(_observe)
    app.register_blueprint(bp)
