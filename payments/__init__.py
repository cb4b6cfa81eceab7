"""Bezahlen: Gebühren der Stadt online bezahlen, mit Kassenzeichen für die Stadtkasse."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.declarations import Setting, declare_production_check, declare_setting
from portal.services_registry import Landing, add_landing

SERVICE = "payments"


def _settings() -> list[Setting]:
    return [
        Setting(
            "PAYMENT_PROVIDER",
            "sandbox",
            "Where payers pay: stripe, or the offline sandbox (demo and tests; refused in production)",
            SERVICE,
            choices=("stripe", "sandbox"),
        ),
        Setting("STRIPE_SECRET_KEY", "", "Stripe's secret API key", SERVICE, secret=True),
        Setting("STRIPE_WEBHOOK_SECRET", "", "The signing secret of the Stripe webhook endpoint", SERVICE, secret=True),
        Setting(
            "STRIPE_API_BASE",
            "",
            "Another address for Stripe's API (a local double in tests); empty: Stripe itself",
            SERVICE,
        ),
        Setting(
            "PAYMENTS_KASSENZEICHEN_AREA",
            "100",
            "The three-digit area code in every Kassenzeichen the portal issues",
            SERVICE,
        ),
        Setting(
            "PAYMENTS_DEFAULT_BUDGET_LINE",
            "1.1.1.0.00.000000",
            "The budget line (Haushaltsstelle) of payments created with an amount instead of a fee code",
            SERVICE,
        ),
    ]


def _production_problems(config: Any) -> list[str]:
    problems = []
    if config["PAYMENT_PROVIDER"] == "sandbox":
        problems.append("PAYMENT_PROVIDER is the sandbox; set it to stripe")
    if config["PAYMENT_PROVIDER"] == "stripe":
        if not config["STRIPE_SECRET_KEY"]:
            problems.append("STRIPE_SECRET_KEY is not set")
        if not config["STRIPE_WEBHOOK_SECRET"]:
            problems.append("STRIPE_WEBHOOK_SECRET is not set: webhooks could not be verified")
    area = str(config["PAYMENTS_KASSENZEICHEN_AREA"])
    if not (len(area) == 3 and area.isdigit()):
        problems.append("PAYMENTS_KASSENZEICHEN_AREA must be three digits")
    return problems


def register(app: Flask) -> None:
    """Plug the service in: models, settings, pages; announced as planned until the issue is done."""
    from payments import models, views  # noqa: F401  (models: for the metadata and migrations)

    for setting in _settings():
        declare_setting(app, setting)
    declare_production_check(app, SERVICE, _production_problems)
    app.register_blueprint(views.bp)
    add_landing(
        app,
        Landing(
            "payments",
            _l("Bezahlen"),
            _l("Gebühren der Stadt online bezahlen, mit Kassenzeichen für die Stadtkasse."),
            None,
            available=False,
        ),
    )
