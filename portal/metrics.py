"""Prometheus metrics at /metrics for operators; filled in by the foundation issue's work on operations."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
