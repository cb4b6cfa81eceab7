"""A booking's fee and the payments service: the order made with the booking, paid, cancelled, refunded.

- Booking with "online": `attach_fee` asks payments.services.orders.create_payment for a payment order inside
  the booking's transaction (one commit for both, or neither). "Am Schalter": only the fee row; the desk
  collects. The payment order names the booking by its reference as the case and the callback
  "appointments.booking_paid".
- Paid: the payments service calls `booking_paid` in the transaction that marks the payment succeeded; it sets
  BookingFee.paid_at. No polling, no reading of payments' tables: this callback is the only way appointments
  learns that a booking is paid.
- Cancelled or released: `settle_cancellations`, inside the cancelling transaction, cancels the orders
  nobody has paid and, for a paid booking, asks for a refund of the whole amount when the booking's refund
  policy allows it (or always when the city cancelled: a closed day, a seat released by the rules). Refunds
  then wait for the treasury (a treasury person puts them up, a second one approves: payments' four eyes).
- Paid after it was cancelled (the payer still had the provider's page open): refunded in full by the
  callback; nobody pays for an appointment that no longer exists.

Lock order (PostgreSQL): booking rows, seat rows, then payment rows, then the audit chain. A payments webhook
takes the payment row, then the audit chain, and then runs the callback, which touches only BookingFee, never
the booking's row: so it can never wait for a booking transaction that waits for it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import Flask
from flask_babel import gettext as _

from appointments.errors import BookingError
from appointments.models import Booking, BookingFee, BookingStatus, PaymentChoice, Settlement
from appointments.services import fees
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import CatalogueService
from portal.extensions import db
from portal.timeutil import as_utc, utcnow

if TYPE_CHECKING:
    from payments.models import Payment

log = logging.getLogger(__name__)

SERVICE = "appointments"
CALLBACK = "appointments.booking_paid"
PAYMENTS_ACTOR = Actor("system", label="appointments-payments")
PURPOSE_MAX = 140
CHOICES = (PaymentChoice.ONLINE.value, PaymentChoice.COUNTER.value)


def register(app: Flask) -> None:
    """Called by appointments.register only when the payments service is switched on."""
    from payments.services import orders

    orders.register_success_callback(app, CALLBACK, booking_paid)


# --- booking ----------------------------------------------------------------------------------------------


def _purpose(booking: Booking, quote: fees.Quote) -> str:
    ids = [line.service_id for line in quote.lines]
    query = sa.select(CatalogueService.id, CatalogueService.name).where(CatalogueService.id.in_(ids))
    names = dict(db.session.execute(query).all())
    parts = [
        (f"{line.quantity} × " if line.quantity > 1 else "") + names.get(line.service_id, "?") for line in quote.lines
    ]
    text = _("Termin %(reference)s: %(services)s", reference=booking.reference, services=", ".join(parts))
    return text if len(text) <= PURPOSE_MAX else text[: PURPOSE_MAX - 1] + "…"


def _amount(quote: fees.Quote) -> dict[str, object]:
    """The fee code when one fee covers the booking as the catalogue computes it (the order then keeps its
    tariff version), else the total with the budget line all lines share (or the default budget line)."""
    if len(quote.lines) == 1:
        line = quote.lines[0]
        if line.per_unit:
            return {"fee_code": line.fee_code, "quantity": line.quantity}
        if line.quantity == 1:
            return {"fee_code": line.fee_code}
    budget_lines = {line.budget_line for line in quote.lines}
    return {"amount_cents": quote.total_cents, "budget_line": budget_lines.pop() if len(budget_lines) == 1 else None}


def return_url(booking: Booking) -> str | None:
    """Where the payer goes back to: "Meine Termine" for a signed-in booker. Not the manage page: its address
    carries the manage token, which the portal keeps only as a hash and which must not sit in another
    service's table (nor go to whoever holds the payment link, who could then cancel the booking)."""
    return "/termine/meine" if booking.user_id is not None else None


def attach_fee(
    actor: Actor, booking: Booking, items: Sequence[tuple[int, int]], choice: str | None
) -> BookingFee | None:
    """Inside the booking's transaction: the booking's fee row and, for "online", its payment order.

    `choice` None means "at the desk" (the API and staff bookings); the web form always asks. Nothing when the
    services carry no fee or payments is off. BookingError(field="payment") for an unknown choice or an amount
    the payments service refuses.
    """
    quote = fees.quote_items(items)
    if quote is None:
        return None
    choice = choice or PaymentChoice.COUNTER.value
    if choice not in CHOICES:
        raise BookingError("payment", _("Bitte wählen Sie, wie Sie die Gebühr bezahlen möchten."), "payment_required")
    fee = BookingFee(
        booking_id=booking.id,
        amount_cents=quote.total_cents,
        method=choice,
        refund_hours_before=quote.refund_hours_before,
    )
    if choice == PaymentChoice.ONLINE:
        from payments.errors import PaymentError
        from payments.services import orders

        try:
            payment = orders.create_payment(
                actor,
                service=SERVICE,
                case_reference=booking.reference or "",
                purpose=_purpose(booking, quote),
                payer=orders.Payer(user_id=booking.user_id, email=booking.email),
                return_url=return_url(booking),
                on_success=CALLBACK,
                **_amount(quote),  # type: ignore[arg-type]
            )
        except PaymentError as error:
            raise BookingError("payment", error.message, error.code) from None
        fee.amount_cents = payment.amount_cents
        fee.payment_public_id = payment.public_id
        fee.kassenzeichen = payment.kassenzeichen
    db.session.add(fee)
    return fee


def payment_path(fee: BookingFee | None) -> str | None:
    """The payer's page of the payments service (status, "Jetzt online bezahlen") while the fee is open."""
    if fee is None or fee.method != PaymentChoice.ONLINE or fee.paid_at is not None or not fee.payment_public_id:
        return None
    return f"/bezahlen/{fee.payment_public_id}"


def payment_link(booking: Booking) -> str | None:
    """`payment_path` as an absolute address, for mails."""
    from portal.urls import absolute_url

    path = payment_path(fees.booking_fee(booking))
    if path is None:
        return None
    return absolute_url("payments.status", public_id=path.rsplit("/", 1)[1])


# --- paid -------------------------------------------------------------------------------------------------


def booking_paid(payment: Payment) -> None:
    """The payments service's success callback: the booking is paid. Runs inside the transaction that marks the
    payment succeeded (must not commit). A booking cancelled or released meanwhile gets the money back."""
    booking = db.session.scalar(sa.select(Booking).where(Booking.reference == payment.case_reference))
    if booking is None:
        log.warning("payment %s names an unknown booking %s", payment.kassenzeichen, payment.case_reference)
        return
    fee = db.session.get(BookingFee, booking.id, populate_existing=True)
    if fee is None:  # not made through attach_fee (e.g. an order asked for by hand through the API)
        fee = BookingFee(booking_id=booking.id, method=PaymentChoice.ONLINE.value, refund_hours_before=None)
        db.session.add(fee)
    if fee.paid_at is not None:
        return
    fee.amount_cents = payment.amount_cents
    fee.method = PaymentChoice.ONLINE.value
    fee.payment_public_id = payment.public_id
    fee.kassenzeichen = payment.kassenzeichen
    fee.paid_at = utcnow()
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.RELEASED):
        from payments.services import refunds

        created = refunds.create_case_refunds(
            PAYMENTS_ACTOR,
            SERVICE,
            payment.case_reference,
            _("Zahlung für den Termin %(reference)s nach dessen Absage eingegangen", reference=booking.reference),
        )
        if created:
            fee.settlement = Settlement.REFUND_REQUESTED.value
            fee.refund_cents = sum(refund.amount_cents for refund in created)
    audit.record(
        "appointment.paid",
        PAYMENTS_ACTOR,
        target=booking,
        subject_user_id=booking.user_id,
        reference=booking.reference,
        kassenzeichen=payment.kassenzeichen,
        amount_cents=payment.amount_cents,
        status=booking.status,
    )


# --- cancelled --------------------------------------------------------------------------------------------


def settle_cancellations(
    actor: Actor, bookings: Sequence[Booking], *, by_city: bool, now: datetime | None = None
) -> dict[int, BookingFee]:
    """Inside the transaction cancelling (or releasing) `bookings`, after their seats are freed and before its
    own audit events: cancel their unpaid payment orders and ask for the refunds their policy allows.

    `by_city`: the city cancelled (a closed day, a booking released by the rules), so a paid fee comes back
    whatever the deadline. Otherwise the booking's refund policy decides, at `now`. Returns the fee rows
    (with `settlement` set) of the bookings that had an online order, by booking id.
    """
    if not fees.payments_on() or not bookings:
        return {}
    now = as_utc(now) if now else utcnow()
    ids = [b.id for b in bookings]
    online = {
        row.booking_id: row
        for row in db.session.scalars(
            sa.select(BookingFee).where(BookingFee.booking_id.in_(ids), BookingFee.method == PaymentChoice.ONLINE)
        )
    }
    if not online:
        return {}
    from payments.services import orders, refunds

    chosen = [b for b in bookings if b.id in online and b.reference]
    # Locks every order of these bookings before any change: a webhook paying one of them has finished (and its
    # callback set paid_at) or waits for our commit.
    cancelled = orders.cancel_for_cases(actor, SERVICE, [b.reference or "" for b in chosen], reason="booking_cancelled")
    cancelled_cases = {payment.case_reference for payment in cancelled}
    settled: dict[int, BookingFee] = {}
    for booking in chosen:
        fee = db.session.get(BookingFee, booking.id, populate_existing=True)
        assert fee is not None
        if fee.paid_at is not None:
            if by_city or fees.refund_due(fee, booking.starts_at, now):
                created = refunds.create_case_refunds(
                    actor,
                    SERVICE,
                    booking.reference or "",
                    _("Termin %(reference)s abgesagt", reference=booking.reference),
                )
                fee.settlement = Settlement.REFUND_REQUESTED.value
                fee.refund_cents = sum(refund.amount_cents for refund in created) or fee.refund_cents
            else:
                fee.settlement = Settlement.NO_REFUND.value
        elif booking.reference in cancelled_cases:
            fee.settlement = Settlement.ORDER_CANCELLED.value
        settled[booking.id] = fee
    return settled


def settlement_message(fee: BookingFee | None) -> str | None:
    """What happened to the money, for the page after the cancellation."""
    if fee is None or fee.settlement is None:
        return None
    if fee.settlement == Settlement.REFUND_REQUESTED:
        return _(
            "Die Erstattung von %(amount)s ist beantragt; die Stadtkasse prüft sie und zahlt auf dem Weg zurück, "
            "auf dem Sie bezahlt haben.",
            amount=fees.euro(fee.refund_cents or fee.amount_cents),
        )
    if fee.settlement == Settlement.NO_REFUND:
        return _("Die Gebühr von %(amount)s wird nicht erstattet.", amount=fees.euro(fee.amount_cents))
    return _("Die offene Zahlung über %(amount)s ist storniert.", amount=fees.euro(fee.amount_cents))
