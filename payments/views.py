"""The payer's pages: the payment's status (the truth from our database), paying, the sandbox checkout.

The address carries the payment's unguessable id; the page shows what a paper bill shows. Nothing changes
on GET: starting to pay and the sandbox's outcome need a button (POST).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from payments import state
from payments.errors import PaymentError, PaymentNotFound
from payments.forms import FindBillForm
from payments.models import Payment, PaymentAttempt, PaymentStatus
from payments.services import attempts, bank_transfer, orders
from payments.services.events import CheckoutEvent, apply_checkout_event
from portal import access
from portal.actors import current_actor
from portal.extensions import limiter
from portal.references import format_kassenzeichen

bp = Blueprint("payments", __name__, url_prefix="/bezahlen")

STATUS_LABELS: dict[str, Any] = {
    PaymentStatus.CREATED: _l("Offen"),
    PaymentStatus.STARTED: _l("Zahlung begonnen"),
    PaymentStatus.SUCCEEDED: _l("Bezahlt"),
    PaymentStatus.FAILED: _l("Fehlgeschlagen"),
    PaymentStatus.CANCELLED: _l("Abgebrochen"),
    PaymentStatus.EXPIRED: _l("Abgelaufen"),
    PaymentStatus.PARTIALLY_REFUNDED: _l("Bezahlt, teilweise erstattet"),
    PaymentStatus.REFUNDED: _l("Erstattet"),
    PaymentStatus.WITHDRAWN: _l("Zurückgezogen – nichts zu zahlen"),
}


NO_BILL = _l(
    "Zu diesem Kassenzeichen und Betrag finden wir keine Zahlung. Bitte vergleichen Sie beides mit dem Bescheid."
)


class ButtonForm(FlaskForm):
    pass


@bp.record_once
def _helpers(setup_state) -> None:
    env = setup_state.app.jinja_env
    env.globals["payment_status"] = lambda status: str(STATUS_LABELS.get(status, status))
    env.filters["euro"] = euro
    env.filters["kassenzeichen"] = format_kassenzeichen


def euro(cents: int) -> str:
    """1234 -> "12,34 €" (German notation, also on the English pages: the amount is what the bill says)."""
    whole, rest = divmod(int(cents), 100)
    return f"{whole:,}".replace(",", ".") + f",{rest:02d} €"


@bp.route("/", methods=["GET", "POST"])
@access.public
@limiter.limit("10/minute", methods=["POST"])
def index():
    """Paying a paper notice online: its Kassenzeichen and amount lead to its payment page."""
    form = FindBillForm()
    status = 200
    if form.validate_on_submit():
        try:
            payment = orders.find_bill(form.kassenzeichen.data, form.amount_cents.data)
        except PaymentError as error:
            form.kassenzeichen.errors = [error.message]
            status = 422
        except PaymentNotFound:
            form.kassenzeichen.errors = [NO_BILL]
            status = 422
        else:
            return redirect(url_for("payments.status", public_id=payment.public_id), 303)
    elif form.is_submitted():
        status = 422
    return render_template("payments/index.html", form=form), status


def _payment(public_id: str) -> Payment:
    try:
        return orders.get_payment_by_link(public_id)
    except PaymentNotFound:
        abort(404)


@bp.get("/<public_id>")
@access.public
def status(public_id: str):
    payment = _payment(public_id)
    status = PaymentStatus(payment.status)
    returned = request.args.get("zurueck") == "1"
    waiting = returned and status == PaymentStatus.STARTED
    return render_template(
        "payments/status.html",
        payment=payment,
        paid=status in state.PAID,
        can_pay=status in state.UNPAID,
        # Back from the provider, but its confirmation has not reached us yet: say so, and do not guess.
        waiting=waiting,
        # Not offered while a card payment is being confirmed: a transfer then would pay twice.
        bank_transfer=None if waiting else bank_transfer.details_for(payment),
        cancelled=request.args.get("abgebrochen") == "1" and status in state.UNPAID,
        form=ButtonForm(),
    )


@bp.post("/<public_id>/bezahlen")
@access.public
@limiter.limit("20/minute")
def pay(public_id: str):
    payment = _payment(public_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        url = attempts.start(current_actor(), payment.public_id)
    except PaymentError as error:
        flash(error.message, "danger")
        return redirect(url_for("payments.status", public_id=payment.public_id), 303)
    return redirect(url, 303)


def _sandbox_attempt(reference: str) -> PaymentAttempt:
    attempt = attempts.sandbox_attempt(reference)
    if attempt is None:
        abort(404)
    return attempt


@bp.route("/test-zahlung/<reference>", methods=["GET", "POST"])
@access.public
def sandbox(reference: str):
    attempt = _sandbox_attempt(reference)
    payment = attempt.payment
    form = ButtonForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        choice = request.form.get("ergebnis")
        if choice not in ("succeeded", "failed", "cancelled"):
            abort(400)
        apply_checkout_event(
            current_actor(),
            CheckoutEvent("sandbox", "sbx_evt_" + secrets.token_hex(12), f"sandbox.{choice}", reference, method="card"),
        )
        back = "abgebrochen" if choice == "cancelled" else "zurueck"
        return redirect(url_for("payments.status", public_id=payment.public_id) + f"?{back}=1", 303)
    return render_template("payments/sandbox.html", attempt=attempt, payment=payment, form=form)
