"""Bezahlen: Gebühren der Stadt online bezahlen, mit Kassenzeichen für die Stadtkasse."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.declarations import Scope, Setting, declare_production_check, declare_scope, declare_setting
from portal.services_registry import Landing, add_account_link, add_admin_link, add_landing

SERVICE = "payments"
# The example IBAN of the German banking industry: fine for the demo, never a city's account.
DEMO_IBAN = "DE02120300000000202051"


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
            "PAYMENTS_STRIPE_METHODS",
            "card,sepa_debit,paypal",
            "Payment methods offered in Stripe Checkout, comma-separated (each must be enabled in Stripe's dashboard)",
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
        # Bank transfer: the account payers transfer to (shown with a GiroCode on the payment page).
        Setting("PAYMENTS_BANK_RECIPIENT", "Stadtkasse Musterstadt", "Account holder payers transfer to", SERVICE),
        Setting(
            "PAYMENTS_BANK_IBAN",
            DEMO_IBAN,
            "IBAN of the treasury's account for bank transfers (the default is a well-known example IBAN)",
            SERVICE,
        ),
        Setting("PAYMENTS_BANK_BIC", "BYLADEM1001", "BIC of that account (may be empty)", SERVICE),
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
    from payments.services import bank_transfer

    problems += bank_transfer.configuration_problems(config)
    if str(config["PAYMENTS_BANK_IBAN"]).replace(" ", "") == DEMO_IBAN:
        problems.append("PAYMENTS_BANK_IBAN is the demo example; set the treasury's own account")
    return problems


def register(app: Flask) -> None:
    """Plug the service in: models, settings, pages, API, refunds' approval kind, GDPR hooks, jobs, demo, links."""
    from payments import (
        api,
        api_webhooks,
        cli,
        demo,
        gdpr,
        models,  # noqa: F401  (for the metadata and migrations)
        models_bank,  # noqa: F401
        views,
        views_account,
        views_reconciliation,
        views_treasury,
    )
    from payments.services import refunds
    from portal.api import register_api_blueprint
    from portal.demo import add_demo_hook

    for setting in _settings():
        declare_setting(app, setting)
    declare_production_check(app, SERVICE, _production_problems)
    declare_scope(app, Scope("payments", _l("Zahlungen"), SERVICE))
    refunds.register_kind(app)
    gdpr.register(app)
    for blueprint in (views.bp, views_account.bp, views_treasury.bp, views_reconciliation.bp):
        app.register_blueprint(blueprint)
    register_api_blueprint(app, api_webhooks.blp)
    register_api_blueprint(app, api.blp)
    app.cli.add_command(cli.payments_cli)
    cli.declare_jobs(app)
    add_demo_hook(app, demo.load)
    add_account_link(app, "payments_account.mine", _l("Meine Zahlungen"))
    add_admin_link(app, "payments_treasury.index", _l("Stadtkasse: Zahlungen, Erstattungen, Gebührenkatalog"))
    add_admin_link(app, "payments_reconciliation.statement_list", _l("Stadtkasse: Kontoauszüge und Zuordnung"))
    add_admin_link(app, "payments_reconciliation.day", _l("Stadtkasse: Tagesabschluss"))
    add_landing(
        app,
        Landing(
            "payments",
            _l("Bezahlen"),
            _l("Gebühren der Stadt online bezahlen, mit Kassenzeichen für die Stadtkasse."),
            "payments.index",
        ),
    )
