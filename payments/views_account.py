"""The payer's side in Mein Konto: "Meine Zahlungen" and the receipt (Quittung) as a PDF.

The receipt is there for the signed-in payer (and the treasury, who may see every payment) under
/konto/zahlungen/<id>/quittung.pdf, and for anyone holding the payment's unguessable link under
/bezahlen/<id>/quittung.pdf, like the status page: a guest who paid without an account gets one too.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask_babel import get_locale

from payments import state
from payments.errors import PaymentError, PaymentNotFound
from payments.models import Payment, PaymentStatus
from payments.services import orders, receipts
from portal import access
from portal.actors import current_actor
from portal.extensions import limiter

bp = Blueprint("payments_account", __name__)


@bp.get("/konto/zahlungen")
@access.signed_in
def mine():
    payments = orders.payments_of(current_actor())
    paid = {p.id for p in payments if PaymentStatus(p.status) in state.PAID}
    response = Response(render_template("payments/mine.html", payments=payments, paid=paid))
    response.headers["Cache-Control"] = "no-store"
    return response


def _receipt(payment: Payment) -> Response:
    try:
        pdf = receipts.render_receipt(payment, str(get_locale() or "de"))
    except PaymentError:
        abort(404)  # unpaid: there is nothing to confirm yet
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{receipts.receipt_filename(payment)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/konto/zahlungen/<public_id>/quittung.pdf")
@limiter.limit("20 per minute")  # rendering takes a moment; nobody needs a receipt more often
@access.signed_in
def receipt(public_id: str):
    try:
        payment = orders.get_payment(current_actor(), public_id)
    except PaymentNotFound:
        abort(404)
    return _receipt(payment)


@bp.get("/bezahlen/<public_id>/quittung.pdf")
@limiter.limit("20 per minute")
@access.public
def receipt_by_link(public_id: str):
    try:
        payment = orders.get_payment_by_link(public_id)
    except PaymentNotFound:
        abort(404)
    return _receipt(payment)
