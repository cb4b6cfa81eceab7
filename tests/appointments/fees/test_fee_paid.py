"""Paid: the payments service's callback marks the booking paid in the payment's own transaction; the
citizen's pages and the clerk's desk show it."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from appointments.models import BookingFee
from payments.services import attempts, orders
from payments.services.events import CheckoutEvent, apply_checkout_event
from portal.actors import SYSTEM
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.appointments.fees.builders import (
    book,
    fee_of,
    make_fee_offers,
    manage_path,
    pay_in_sandbox,
    payments_of,
)
from tests.appointments.web.builders import berlin, open_tuesday, text
from tests.builders import make_user


def test_paying_in_the_sandbox_marks_the_booking_paid(client, app):
    offers = make_fee_offers()
    booking, done = book(client, offers, berlin(open_tuesday(), 9), payment="online")
    [payment] = payments_of(booking)

    page = pay_in_sandbox(client, payment.public_id)
    assert "Vielen Dank, die Zahlung ist eingegangen" in page.text

    fee = fee_of(booking)
    assert fee is not None and fee.paid_at is not None
    assert fee.kassenzeichen == payment.kassenzeichen
    paid = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "appointment.paid")).one()
    assert paid.subject_user_id == booking.user_id
    manage = text(client.get(manage_path(done)))
    assert "online bezahlt am" in manage
    assert "Jetzt online bezahlen" not in manage


def test_the_callback_runs_in_the_transaction_that_marks_the_payment_succeeded(client, app):
    offers = make_fee_offers()
    booking, _done = book(client, offers, berlin(open_tuesday(), 9), payment="online")
    [payment] = payments_of(booking)
    attempts.start(SYSTEM, payment.public_id)
    reference = orders.latest_attempt(payment).provider_reference

    # The callback's own last step fails: the payment's status change, made in the same transaction, goes too.
    from portal.audit import services as audit

    original = audit.record

    def refuse_paid_event(action, *args, **kwargs):
        if action == "appointment.paid":
            raise RuntimeError("crash inside the callback")
        return original(action, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audit, "record", refuse_paid_event)
        with pytest.raises(RuntimeError):
            apply_checkout_event(SYSTEM, CheckoutEvent("sandbox", "evt_1", "sandbox.succeeded", reference))
    db.session.rollback()
    assert fee_of(booking).paid_at is None
    db.session.refresh(payment)
    assert payment.status == "started"

    assert apply_checkout_event(SYSTEM, CheckoutEvent("sandbox", "evt_1", "sandbox.succeeded", reference)) == "applied"
    assert fee_of(booking).paid_at is not None


def test_paying_twice_for_the_same_event_marks_paid_once(client, app):
    offers = make_fee_offers()
    booking, _done = book(client, offers, berlin(open_tuesday(), 9), payment="online")
    [payment] = payments_of(booking)
    attempts.start(SYSTEM, payment.public_id)
    reference = orders.latest_attempt(payment).provider_reference
    event = CheckoutEvent("sandbox", "evt_1", "sandbox.succeeded", reference)
    assert apply_checkout_event(SYSTEM, event) == "applied"
    assert apply_checkout_event(SYSTEM, event) == "duplicate"
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "appointment.paid")) == 1


@pytest.fixture
def clerk(app, auth):
    def sign_in(offers):
        user = make_user("clerk@stadt.example", department=offers.mitte.department, department_role="clerk", totp=True)
        auth.login(user.email)
        assert auth.totp(user).status_code in (302, 303)

    return sign_in


def test_the_desk_shows_paid_open_and_no_fee(client, app, clerk):
    offers = make_fee_offers()
    day = open_tuesday()
    paid, _done = book(client, offers, berlin(day, 9), (offers.id_card, 1), payment="online", email="a@example.org")
    pay_in_sandbox(client, payments_of(paid)[0].public_id)
    at_desk, _done = book(
        client, offers, berlin(day, 10), (offers.id_card, 1), payment="counter", email="b@example.org"
    )
    unpaid, _done = book(client, offers, berlin(day, 11), (offers.passport, 1), payment="online", email="c@example.org")
    free, _done = book(client, offers, berlin(day, 13), (offers.registration, 1), payment=None, email="d@example.org")

    clerk(offers)
    page = client.get(f"/schalter/{offers.mitte.id}/{day.isoformat()}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    kassenzeichen = fee_of(paid).kassenzeichen
    formatted = f"{kassenzeichen[:2]} {kassenzeichen[2:5]} {kassenzeichen[5:11]} {kassenzeichen[11:]}"
    assert f"bezahlt (online, Kassenzeichen {formatted})" in _row(html, paid.reference)
    assert "offen: 37,00 € am Schalter" in _row(html, at_desk.reference)
    assert "offen: 70,00 € (online noch nicht bezahlt)" in _row(html, unpaid.reference)
    assert "keine Gebühr" in _row(html, free.reference)


def _row(html: str, reference: str) -> str:
    """The text of the day list's row of one booking."""
    rows = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)) for row in re.findall(r"<tr.*?</tr>", html, re.S)]
    [found] = [row for row in rows if reference in row]
    return found


class TestWithPaymentsSwitchedOff:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "SERVICES": ["appointments"]}

    def test_the_desk_shows_no_fee_column(self, app, client, clerk):
        offers = make_fee_offers()  # fee links exist, but must not matter
        day = open_tuesday()
        booking, _done = book(client, offers, berlin(day, 9), payment=None)
        clerk(offers)
        page = client.get(f"/schalter/{offers.mitte.id}/{day.isoformat()}")
        assert page.status_code == 200
        assert booking.reference in text(page)
        assert "Gebühr" not in text(page)
        assert db.session.scalar(sa.select(sa.func.count(BookingFee.booking_id))) == 0
