"""Builders for payments tests: fees with tariffs, payment orders."""

from __future__ import annotations

from datetime import date
from typing import Any

from payments.models import Fee, FeeVersion, Payment
from payments.services import orders
from portal.actors import SYSTEM, Actor
from portal.extensions import db


def make_fee(
    code: str = "PA-AUSWEIS",
    amount_cents: int | None = 3700,
    *,
    rate_cents: int | None = None,
    unit: str | None = None,
    minimum_cents: int = 0,
    valid_from: date = date(2020, 1, 1),
    budget_line: str = "1.2.2.0.01.431100",
) -> Fee:
    fee = Fee(code=code, name=f"Gebühr {code}", budget_line=budget_line)
    fee.versions.append(
        FeeVersion(
            valid_from=valid_from,
            amount_cents=amount_cents if rate_cents is None else None,
            rate_cents=rate_cents,
            unit=unit,
            minimum_cents=minimum_cents,
        )
    )
    db.session.add(fee)
    db.session.commit()
    return fee


def make_payment(actor: Actor = SYSTEM, **kwargs: Any) -> Payment:
    fields: dict[str, Any] = {
        "service": "appointments",
        "case_reference": "T-2026-000001",
        "purpose": "Personalausweis",
        "amount_cents": 3700,
    }
    fields.update(kwargs)
    return orders.request_payment(actor, **fields)


def make_paid_payment(actor: Actor = SYSTEM, method: str = "card", **kwargs: Any) -> Payment:
    """A payment paid through the sandbox's own path (attempt started, the tester's "succeeded")."""
    from payments.services import attempts
    from payments.services.events import CheckoutEvent, apply_checkout_event

    payment = make_payment(actor, **kwargs)
    attempts.start(SYSTEM, payment.public_id)
    attempt = orders.latest_attempt(payment)
    assert attempt is not None and attempt.provider_reference
    apply_checkout_event(
        SYSTEM,
        CheckoutEvent(
            "sandbox", f"sbx_evt_paid_{payment.id}", "sandbox.succeeded", attempt.provider_reference, method=method
        ),
    )
    db.session.refresh(payment)
    assert payment.status == "succeeded"
    return payment


def make_treasurer(email: str = "kasse@stadt.example", display_name: str = "Tina Kasse") -> Any:
    """A treasury person with two-factor authentication set up (staff must have it to use any page)."""
    from tests.builders import make_user

    return make_user(email, roles=("treasury",), totp=True, display_name=display_name)


def api_client_actor(scopes: tuple[str, ...] = ("payments",), name: str = "Fachverfahren") -> Actor:
    """The actor of a machine client's bearer token (no person behind it), as the API sees it."""
    import secrets

    from portal.accounts.models import ApiToken

    raw = secrets.token_hex(16)
    token = ApiToken(name=name, token_hash=raw * 2, prefix=raw[:8], scopes=" ".join(scopes))
    db.session.add(token)
    db.session.commit()
    return Actor.for_token(token)
