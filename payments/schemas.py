"""Request and response schemas of the payments API (marshmallow, documented in the OpenAPI).

Input is checked for shape here (types, lengths, no unknown fields, no NUL bytes); the rules (fee codes,
amounts, return addresses) stay in the services, which answer with a PaymentError and its code.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

MAX_INT = 10**12  # far above any amount we accept; bigger numbers are refused before they reach a service


def _plain_text(value: str) -> None:
    """No NUL bytes (PostgreSQL cannot store them) and no lone surrogates (no encoding can)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ma.ValidationError("Der Text enthält ungültige Zeichen.") from None
    if "\x00" in value:
        raise ma.ValidationError("Der Text enthält ungültige Zeichen.")


class StrictInteger(ma.fields.Integer):
    """An integer in JSON: 37.0, "37" and true are refused, and so are numbers of absurd size."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Range(-MAX_INT, MAX_INT))
        super().__init__(strict=True, **kwargs)


def _text(max_length: int, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=[ma.validate.Length(min=1, max=max_length), _plain_text], **kwargs)


class PaymentCreateSchema(ma.Schema):
    fee_code = _text(40, load_default=None, metadata={"description": "A fee of the catalogue (or amount_cents)"})
    amount_cents = StrictInteger(
        load_default=None, metadata={"description": "The amount in euro cents (or fee_code)", "example": 3700}
    )
    quantity = StrictInteger(
        load_default=None, metadata={"description": "Units for a fee charged per unit (e.g. m² × days)"}
    )
    purpose = _text(140, required=True, metadata={"description": "What is paid for; shown to the payer"})
    case_reference = _text(60, required=True, metadata={"description": "Your case, e.g. S-2026-000123"})
    service = _text(
        40, load_default="api", metadata={"description": "The procedure the case belongs to (default: api)"}
    )
    return_url = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=[ma.validate.Length(max=500), _plain_text],
        metadata={"description": "Where the payer returns afterwards; an address on this portal"},
    )

    @ma.validates_schema
    def _one_of_fee_or_amount(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if (data.get("fee_code") is None) == (data.get("amount_cents") is None):
            raise ma.ValidationError("Geben Sie entweder fee_code oder amount_cents an.", "amount_cents")


class PaymentSchema(ma.Schema):
    id = ma.fields.String(attribute="public_id", metadata={"description": "The payment's id in this API"})
    kassenzeichen = ma.fields.String(metadata={"description": "13 digits; the reference for bank transfers"})
    status = ma.fields.String(
        metadata={
            "description": "created, started, succeeded, failed, cancelled, expired, partially_refunded, refunded"
        }
    )
    amount_cents = ma.fields.Integer()
    refunded_cents = ma.fields.Integer()
    currency = ma.fields.String()
    purpose = ma.fields.String()
    service = ma.fields.String()
    case_reference = ma.fields.String()
    fee_code = ma.fields.String(allow_none=True)
    budget_line = ma.fields.String()
    method = ma.fields.String(allow_none=True, metadata={"description": "card, sepa_debit, paypal, bank_transfer"})
    created_at = ma.fields.AwareDateTime()
    succeeded_at = ma.fields.AwareDateTime(allow_none=True)
    next_url = ma.fields.String(metadata={"description": "The payer's page: pay online or by transfer, see status"})


class RefundCreateSchema(ma.Schema):
    amount_cents = StrictInteger(required=True, metadata={"description": "At most the amount not yet refunded"})
    reason = _text(500, required=True)


class RefundSchema(ma.Schema):
    id = ma.fields.Integer()
    payment_id = ma.fields.String(metadata={"description": "The payment's id"})
    amount_cents = ma.fields.Integer()
    status = ma.fields.String(
        metadata={"description": "awaiting_approval (a second treasury person decides), pending, succeeded, ..."}
    )
    reason = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class ReconciliationQuerySchema(ma.Schema):
    date = ma.fields.Date(required=True, metadata={"description": "The day in Europe/Berlin, YYYY-MM-DD"})


class ReconciliationItemSchema(ma.Schema):
    id = ma.fields.String(attribute="public_id", metadata={"description": "The payment's id"})
    refund_id = ma.fields.Integer(allow_none=True)
    kassenzeichen = ma.fields.String()
    budget_line = ma.fields.String()
    amount_cents = ma.fields.Integer(metadata={"description": "Gross; negative for a refund"})
    fees_cents = ma.fields.Integer(allow_none=True, metadata={"description": "The provider's fee, when known"})
    provider = ma.fields.String(metadata={"description": "stripe, sandbox, or bank (a bank transfer)"})
    provider_reference = ma.fields.String(allow_none=True)
    method = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    booked_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "Paid or refunded at"})
    case_reference = ma.fields.String()
    service = ma.fields.String()
    purpose = ma.fields.String()


class ReconciliationGroupSchema(ma.Schema):
    count = ma.fields.Integer()
    sum_cents = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(ReconciliationItemSchema))


class OutstandingGroupSchema(ReconciliationGroupSchema):
    truncated = ma.fields.Boolean(metadata={"description": "True when items lists only the oldest 500"})


class ReconciliationSchema(ma.Schema):
    date = ma.fields.Date()
    timezone = ma.fields.String()
    paid = ma.fields.Nested(ReconciliationGroupSchema, metadata={"description": "Payments that succeeded that day"})
    refunded = ma.fields.Nested(
        ReconciliationGroupSchema, metadata={"description": "Refunds confirmed that day (amounts negative)"}
    )
    outstanding = ma.fields.Nested(
        OutstandingGroupSchema, metadata={"description": "Orders created by the end of the day and not paid by then"}
    )
