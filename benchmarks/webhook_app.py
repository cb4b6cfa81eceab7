"""The portal as `benchmarks/webhooks.py` serves it: the real app plus a success callback that counts.

The callback is what another service would register (`payments.services.orders.register_success_callback`):
it runs in the same transaction as the payment's move to "succeeded". Here it writes one audit event per call,
so the benchmark can count afterwards that no payment's success took effect twice. Benchmark-only: nothing in
the portal imports this module.

    gunicorn --workers 4 --pythonpath benchmarks "webhook_app:create_app({...}, 'production')"
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from payments.models import Payment
from payments.services.orders import register_success_callback
from portal import create_app as create_portal
from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.audit.registry import declare

CALLBACK = "benchmark.count_success"
ACTION = "benchmark.success_callback"

declare(ACTION, ["kassenzeichen"], "Benchmark only: the success callback of a payment ran")


def count_success(payment: Payment) -> None:
    audit.record(ACTION, SYSTEM, target=payment, kassenzeichen=payment.kassenzeichen)


def create_app(config: dict[str, Any] | None = None, env: str | None = None) -> Flask:
    app = create_portal(config, env)
    register_success_callback(app, CALLBACK, count_success)
    return app
