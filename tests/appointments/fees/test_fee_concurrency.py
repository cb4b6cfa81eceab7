"""The payment's webhook and the booking's cancellation at the same moment (PostgreSQL): neither waits for the
other in a circle. The cancellation holds the booking's row and seats when the webhook arrives; the webhook's
callback must not need the booking's row, finish, and the cancellation then sees the fee paid and asks for
its refund."""

from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa

from appointments.models import Booking
from appointments.services import booking as booking_service
from payments.models import Refund
from payments.services import attempts, orders
from payments.services.events import CheckoutEvent, apply_checkout_event
from portal.actors import ANONYMOUS, SYSTEM
from portal.extensions import db
from tests.appointments.fees.builders import book, fee_of, make_fee_offers, payments_of
from tests.appointments.web.builders import berlin, open_tuesday

pytestmark = pytest.mark.skipif(
    os.environ.get("STADTPORTAL_TEST_DB", "sqlite") != "postgresql",
    reason="concurrent writers need PostgreSQL (SQLite serialises whole-database writes)",
)


def test_a_webhook_during_a_cancellation_finishes_first_and_the_fee_is_refunded(app, client, monkeypatch):
    offers = make_fee_offers(refund_hours_before=24)
    booking, _done = book(client, offers, berlin(open_tuesday(), 9), payment="online")
    [payment] = payments_of(booking)
    attempts.start(SYSTEM, payment.public_id)
    reference = orders.latest_attempt(payment).provider_reference
    booking_id = booking.id

    cancel_holds_booking = threading.Event()
    webhook_done = threading.Event()
    seen: dict[str, object] = {}
    real_free_claims = booking_service.booking_seats.free_claims

    def free_and_linger(*args, **kwargs):
        freed = real_free_claims(*args, **kwargs)
        cancel_holds_booking.set()
        seen["webhook_finished_meanwhile"] = webhook_done.wait(10)
        return freed

    monkeypatch.setattr(booking_service.booking_seats, "free_claims", free_and_linger)

    def cancel() -> None:
        with app.app_context():
            try:
                booking_service.cancel_booking(ANONYMOUS, db.session.get(Booking, booking_id))
                seen["cancel"] = "ok"
            except Exception as error:  # reported by the assertion below
                seen["cancel"] = repr(error)
            finally:
                db.session.remove()

    def webhook() -> None:
        with app.app_context():
            try:
                cancel_holds_booking.wait(10)
                event = CheckoutEvent("sandbox", "evt_race", "sandbox.succeeded", reference)
                seen["webhook"] = apply_checkout_event(SYSTEM, event)
            except Exception as error:
                seen["webhook"] = repr(error)
            finally:
                webhook_done.set()
                db.session.remove()

    db.session.remove()
    threads = [threading.Thread(target=cancel), threading.Thread(target=webhook)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert seen == {"cancel": "ok", "webhook": "applied", "webhook_finished_meanwhile": True}, seen
    [refund] = db.session.scalars(sa.select(Refund)).all()
    assert (refund.amount_cents, refund.status) == (10700, "awaiting_approval")
    booking = db.session.get(Booking, booking_id)
    assert booking.status == "cancelled"
    assert fee_of(booking).settlement == "refund_requested"
