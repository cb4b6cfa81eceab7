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
