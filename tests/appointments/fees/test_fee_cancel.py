"""Cancelling a booking with a fee: a paid fee comes back as the service's refund policy says (a refund that
waits for the treasury's four eyes), an unpaid order is cancelled, and the page says which before the person
confirms."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from appointments.models import BookingStatus, Closure
from appointments.services import booking as booking_service
from appointments.services import closure_bookings
from payments.models import Refund
from payments.services import attempts, orders
from payments.services.events import CheckoutEvent, apply_checkout_event
from portal.actors import SYSTEM, Actor
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.appointments.fees.builders import (
    book,
    fee_of,
    make_fee_offers,
    manage_path,
    pay_in_sandbox,
    payments_of,
)
from tests.appointments.web.builders import berlin, open_tuesday, text
from tests.builders import csrf_from, make_user


def _cancel(client, manage: str):
    """The cancellation page (what it says before), then the button; (page before, page after)."""
    before = client.get(f"{manage}/absagen")
    assert before.status_code == 200
    done = client.post(f"{manage}/absagen", data={"csrf_token": csrf_from(before.get_data(as_text=True))})
    assert done.status_code == 302
    return text(before), text(client.get(done.headers["Location"]))


def _refunds() -> list[Refund]:
    return list(db.session.scalars(sa.select(Refund).order_by(Refund.id)))


def test_cancelling_a_paid_booking_in_time_asks_for_a_full_refund_awaiting_approval(client, app):
    offers = make_fee_offers(refund_hours_before=24)
    booking, done = book(client, offers, berlin(open_tuesday(), 9), payment="online")
    [payment] = payments_of(booking)
    pay_in_sandbox(client, payment.public_id)

    before, after = _cancel(client, manage_path(done))

    assert "Die Gebühr wird erstattet" in before
    assert "Sie haben 107,00 € online bezahlt" in before
    [refund] = _refunds()
    assert (refund.payment_id, refund.amount_cents, refund.status) == (payment.id, 10700, "awaiting_approval")
    assert refund.requested_by_client == "service:appointments"
    assert refund.approval_request_id is None  # a treasury person puts it up, a second one decides
    assert "Die Erstattung von 107,00 € ist beantragt" in after
    assert "107,00 € beantragt; die Stadtkasse prüft sie" in after
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED
    assert fee_of(booking).settlement == "refund_requested"
    mail = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "appointment_cancelled")).one()
    assert "Die Gebühr von 107,00 € erstatten wir Ihnen" in mail.body_text


def test_cancelling_a_paid_booking_after_the_refund_period_refunds_nothing_and_says_so_first(client, app):
    # 30 days' notice: the appointment a week ahead is already inside the period without refund.
    offers = make_fee_offers(refund_hours_before=30 * 24)
    booking, done = book(client, offers, berlin(open_tuesday(), 9), payment="online")
    pay_in_sandbox(client, payments_of(booking)[0].public_id)

    before, after = _cancel(client, manage_path(done))

    assert "Die Gebühr wird nicht erstattet" in before
    assert "Eine Erstattung ist bei einer Absage jetzt nicht mehr möglich" in before
    assert "spätestens 720 Stunden vor dem Termin" in before
    assert _refunds() == []
    assert "Die Gebühr von 107,00 € wird nicht erstattet." in after
    assert fee_of(booking).settlement == "no_refund"


def test_a_service_without_refunds_never_refunds(client, app):
    offers = make_fee_offers(refund_hours_before=None)
    booking, done = book(client, offers, berlin(open_tuesday(), 9), payment="online")
    pay_in_sandbox(client, payments_of(booking)[0].public_id)
    before, _after = _cancel(client, manage_path(done))
    assert "Bei einer Absage wird die Gebühr nicht erstattet." in before
    assert _refunds() == []


def test_cancelling_an_unpaid_online_booking_cancels_its_payment_order(client, app):
    offers = make_fee_offers()
    booking, done = book(client, offers, berlin(open_tuesday(), 9), payment="online")

    before, after = _cancel(client, manage_path(done))

    assert "Die offene Zahlung wird storniert" in before
    [payment] = payments_of(booking)
    db.session.refresh(payment)
    assert payment.status == "withdrawn"
    assert _refunds() == []
    assert "Die offene Zahlung über 107,00 € ist storniert." in after
    assert "Jetzt online bezahlen" not in after


def test_cancelling_a_booking_paid_at_the_desk_says_nothing_about_money(client, app):
    offers = make_fee_offers()
    booking, done = book(client, offers, berlin(open_tuesday(), 9), payment="counter")
    before, _after = _cancel(client, manage_path(done))
    assert "erstattet" not in before and "storniert" not in before
    assert payments_of(booking) == []


def test_a_payment_arriving_after_the_cancellation_is_refunded_in_full(client, app):
    # No refunds at all under the policy: money for an appointment that no longer exists comes back anyway.
    offers = make_fee_offers(refund_hours_before=None)
    booking, done = book(client, offers, berlin(open_tuesday(), 9), payment="online")
    [payment] = payments_of(booking)
    attempts.start(SYSTEM, payment.public_id)  # the payer is on the provider's page ...
    reference = orders.latest_attempt(payment).provider_reference
    _cancel(client, manage_path(done))  # ... while the booking is cancelled in another tab
    db.session.refresh(payment)
    assert payment.status == "withdrawn"

    assert apply_checkout_event(SYSTEM, CheckoutEvent("sandbox", "evt_late", "sandbox.succeeded", reference)) == (
        "applied"
    )

    [refund] = _refunds()
    assert (refund.amount_cents, refund.status) == (10700, "awaiting_approval")
    fee = fee_of(booking)
    assert fee.paid_at is not None and fee.settlement == "refund_requested"


def test_a_held_booking_released_for_want_of_confirmation_cancels_its_order(client, app):
    offers = make_fee_offers(confirm_within_minutes=30)
    booking, done = book(client, offers, berlin(open_tuesday(), 9), payment="online")
    assert booking.status == BookingStatus.RESERVED
    assert not re.search(r"/bezahlen/[0-9a-f]{32}", done)  # paying waits for the confirmation
    assert booking_service.release_expired(now=booking.confirm_by + timedelta(minutes=1)) == 1
    [payment] = payments_of(booking)
    db.session.refresh(payment)
    assert payment.status == "withdrawn"


def _close_the_day(actor: Actor, location_id: int, day) -> int:
    return closure_bookings.cancel_day(actor, location_id, day, "Wasserschaden")


def _cancel_a_closure_s_bookings(actor: Actor, location_id: int, day) -> int:
    closure = Closure(location_id=location_id, first_day=day, last_day=day, reason="Wasserschaden")
    db.session.add(closure)
    db.session.commit()
    return closure_bookings.cancel_affected(actor, location_id, closure.id, "Wasserschaden")


# The city cancels either way: at the desk (a whole day) or after adding a closure (its bookings).
@pytest.mark.parametrize("close", [_close_the_day, _cancel_a_closure_s_bookings], ids=["desk", "closure"])
def test_a_closed_day_refunds_paid_fees_whatever_the_deadline(client, app, close):
    offers = make_fee_offers(refund_hours_before=30 * 24)
    day = open_tuesday()
    paid, _done = book(client, offers, berlin(day, 9), (offers.id_card, 1), payment="online", email="a@example.org")
    pay_in_sandbox(client, payments_of(paid)[0].public_id)
    unpaid, _done = book(client, offers, berlin(day, 10), (offers.passport, 1), payment="online", email="b@example.org")
    admin = make_user(
        "chefin@stadt.example", department=offers.mitte.department, department_role="department_admin", totp=True
    )

    with app.test_request_context():
        assert close(Actor.for_user(admin), offers.mitte.id, day) == 2

    [refund] = _refunds()
    assert (refund.payment.case_reference, refund.amount_cents) == (paid.reference, 3700)
    [open_order] = payments_of(unpaid)
    db.session.refresh(open_order)
    assert open_order.status == "withdrawn"
    mails = {
        m.recipient: m.body_text
        for m in db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "appointment_closed_day"))
    }
    assert "Die Gebühr von 37,00 € erstatten wir Ihnen" in mails["a@example.org"]
    assert "Die offene Zahlung über 70,00 € ist storniert" in mails["b@example.org"]


def test_deleting_the_account_cancels_a_paid_booking_under_its_refund_policy(client, app, auth):
    from portal.accounts.services.profile import delete_account
    from tests.builders import PASSWORD

    offers = make_fee_offers(refund_hours_before=24)
    user = make_user("erika@example.org")
    auth.login(user.email)
    booking, _done = book(client, offers, berlin(open_tuesday(), 9), payment="online")
    assert booking.user_id == user.id
    [payment] = payments_of(booking)
    assert payment.payer_user_id == user.id
    pay_in_sandbox(client, payment.public_id)

    with app.test_request_context():
        delete_account(Actor.for_user(user), PASSWORD)

    db.session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED
    [refund] = _refunds()
    assert (refund.payment_id, refund.amount_cents) == (payment.id, 10700)
