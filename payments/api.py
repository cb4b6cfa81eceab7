"""JSON API for specialist procedures and the treasury's systems: create and read payment orders, request
refunds, read the daily reconciliation. Every route needs a bearer token with the scope `payments`.

The routes are thin: each calls one service function and turns its PaymentError into problem JSON with the
error's status and code, so the API refuses exactly what the web forms refuse.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app

from payments.errors import PaymentError, PaymentNotFound
from payments.models import Payment, Refund
from payments.schemas import (
    PaymentCreateSchema,
    PaymentSchema,
    ReconciliationQuerySchema,
    ReconciliationSchema,
    RefundCreateSchema,
    RefundSchema,
)
from payments.services import orders, reconciliation
from portal import access
from portal.actors import current_actor
from portal.api.blueprint import Blueprint
from portal.errors import problem
from portal.urls import absolute_url

blp = Blueprint(
    "payments_api",
    __name__,
    url_prefix="/api/v1/payments",
    description="Payment orders, refunds and the daily reconciliation (token scope: payments)",
)


def _error(error: PaymentError) -> Response:
    return problem(
        error.status,
        error.message,
        type_=f"payment-{error.code}",
        errors={error.field: [error.message]},
        code=error.code,
    )


def _not_found() -> Response:
    return problem(404, "Diese Zahlung gibt es nicht.", type_="payment-not-found")


def _view(payment: Payment) -> dict[str, Any]:
    return {
        "public_id": payment.public_id,
        "kassenzeichen": payment.kassenzeichen,
        "status": payment.status,
        "amount_cents": payment.amount_cents,
        "refunded_cents": payment.refunded_cents,
        "currency": payment.currency,
        "purpose": payment.purpose,
        "service": payment.service,
        "case_reference": payment.case_reference,
        "fee_code": payment.fee_code,
        "budget_line": payment.budget_line,
        "method": payment.method,
        "created_at": payment.created_at,
        "succeeded_at": payment.succeeded_at,
        "next_url": absolute_url("payments.status", public_id=payment.public_id),
    }


def _refund_view(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "payment_id": refund.payment.public_id,
        "amount_cents": refund.amount_cents,
        "status": refund.status,
        "reason": refund.reason,
        "created_at": refund.created_at,
    }


@blp.route("", methods=["POST"])
@blp.arguments(PaymentCreateSchema)
@blp.response(201, PaymentSchema)
@blp.alt_response(422, description="Bad input or a rule refusing it: `code` says which (unknown_fee, ...)")
@access.token("payments")
def create_payment(data: dict[str, Any]):
    """Create a payment order with a Kassenzeichen; send the payer to `next_url` to pay online or by transfer.

    Give `fee_code` (with `quantity` for a fee charged per unit) or `amount_cents`. The amount is fixed now.
    """
    if data["service"] in current_app.extensions.get("stadtportal_services", []):
        # The portal's own services create their payments themselves, with their success callbacks; a client
        # must not add a payment to one of their cases (the service would count it as the case's payment).
        return _error(
            PaymentError(
                "service",
                "Dieser Name gehört einem Dienst des Portals; wählen Sie einen anderen.",
                "reserved_service",
            )
        )
    try:
        payment = orders.request_payment(
            current_actor(),
            service=data["service"],
            case_reference=data["case_reference"],
            purpose=data["purpose"],
            fee_code=data["fee_code"],
            quantity=data["quantity"],
            amount_cents=data["amount_cents"],
            return_url=data["return_url"],
        )
    except PaymentError as error:
        return _error(error)
    return _view(payment), 201


@blp.route("/reconciliation", methods=["GET"])
@blp.arguments(ReconciliationQuerySchema, location="query")
@blp.response(200, ReconciliationSchema)
@blp.alt_response(422, description="Missing or invalid date")
@access.token("payments")
def get_reconciliation(args: dict[str, Any]):
    """The day's reconciliation (Europe/Berlin): payments that succeeded, refunds confirmed, orders outstanding.

    Each item carries its Kassenzeichen, budget line, gross amount (negative for refunds), provider and the
    provider's reference. The same data as the treasury's CSV export; reading it is audited.
    """
    day: date = args["date"]
    actor = current_actor()
    try:
        report = reconciliation.day_report(actor, day)
    except PaymentError as error:
        return _error(error)
    reconciliation.record_api_export(actor, report)
    return {
        "date": report.day,
        "timezone": "Europe/Berlin",
        "paid": {"count": len(report.paid), "sum_cents": report.paid_cents, "items": report.paid},
        "refunded": {
            "count": len(report.refunded),
            "sum_cents": -report.refunded_cents,
            "items": report.refunded,
        },
        "outstanding": {
            "count": report.outstanding_count,
            "sum_cents": report.outstanding_cents,
            "items": report.outstanding,
            "truncated": report.outstanding_truncated,
        },
    }


@blp.route("/<public_id>", methods=["GET"])
@blp.response(200, PaymentSchema)
@blp.alt_response(404, description="No such payment")
@access.token("payments")
def get_payment(public_id: str):
    """A payment order and its status."""
    try:
        return _view(orders.get_payment(current_actor(), public_id))
    except PaymentNotFound:
        return _not_found()


@blp.route("/<public_id>/refunds", methods=["POST"])
@blp.arguments(RefundCreateSchema)
@blp.response(202, RefundSchema)
@blp.alt_response(404, description="No such payment")
@blp.alt_response(409, description="More than the amount not yet refunded (`over_refundable`), or not paid")
@blp.alt_response(422, description="Bad input")
@access.token("payments")
def request_refund(data: dict[str, Any], public_id: str):
    """Ask for a (partial) refund. It waits for a second treasury person's approval in the web UI, so the
    answer is 202 with the refund `awaiting_approval`; the money goes back once the provider confirms."""
    from payments.services import refunds  # another part of the service; imported when first used

    try:
        refund = refunds.request_refund(current_actor(), public_id, data["amount_cents"], data["reason"])
    except PaymentNotFound:
        return _not_found()
    except PaymentError as error:
        return _error(error)
    return _refund_view(refund), 202
