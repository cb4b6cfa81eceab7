"""Booking services that carry a fee: the total and both ways to pay on the check page, the payment order made
in the booking's own transaction, nothing of it when the payments service is switched off."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from appointments.models import Booking, BookingFee
from appointments.services import booking as booking_service
from appointments.services import booking_mail
from payments.models import Payment
from portal.actors import ANONYMOUS
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.appointments.fees.builders import book, fee_of, make_fee_offers, payments_of, to_check_page
from tests.appointments.web.builders import Wizard, berlin, open_tuesday, text


def test_the_check_page_shows_the_total_and_offers_both_ways_to_pay(client, app):
    offers = make_fee_offers()
    page = to_check_page(client, offers, berlin(open_tuesday(), 9))
    shown = text(page)
    assert "Gebühr: 107,00 €" in shown
    assert "Personalausweis beantragen: 37,00 €" in shown and "Reisepass beantragen: 70,00 €" in shown
    assert "Wie möchten Sie die Gebühr bezahlen?" in shown
    assert "Jetzt online bezahlen" in shown and "Am Schalter bezahlen" in shown
    assert "spätestens 24 Stunden vor dem Termin ab, erstatten wir die Gebühr vollständig" in shown
    html = page.get_data(as_text=True)
    # Online is preselected; the person can switch to the desk.
    assert re.search(r'<input[^>]*\bchecked\b[^>]*value="online"', html)
    assert not re.search(r'<input[^>]*\bchecked\b[^>]*value="counter"', html)


def test_a_service_without_fee_books_as_before(client, app):
    offers = make_fee_offers()
    page = to_check_page(client, offers, berlin(open_tuesday(), 9), (offers.registration, 1))
    assert "Gebühr" not in text(page)
    booking, _done = book(client, offers, berlin(open_tuesday(), 10), (offers.registration, 1), payment=None)
    assert fee_of(booking) is None
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_without_a_choice_how_to_pay_the_booking_is_refused_with_a_clear_message(client, app):
    offers = make_fee_offers()
    to_check_page(client, offers, berlin(open_tuesday(), 9))
    refused = Wizard(client).book()
    assert refused.status_code == 422
    assert "Bitte wählen Sie, wie Sie die Gebühr bezahlen möchten." in text(refused)
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_paying_online_makes_one_payment_order_for_the_booking_and_offers_to_pay(client, app):
    offers = make_fee_offers()
    booking, done = book(client, offers, berlin(open_tuesday(), 9), payment="online")

    [payment] = payments_of(booking)
    assert payment.amount_cents == 10700
    assert payment.status == "created"
    assert payment.on_success == "appointments.booking_paid"
    assert payment.purpose == f"Termin {booking.reference}: Personalausweis beantragen, Reisepass beantragen"
    assert payment.payer_email == "erika@example.org"
    fee = fee_of(booking)
    assert fee is not None
    assert (fee.method, fee.amount_cents, fee.payment_public_id, fee.paid_at) == (
        "online",
        10700,
        payment.public_id,
        None,
    )
    assert f'href="/bezahlen/{payment.public_id}"' in done
    assert "Jetzt online bezahlen" in done
    # The confirmation mail carries the link too.
    mail = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == "erika@example.org")).one()
    assert f"/bezahlen/{payment.public_id}" in mail.body_text


def test_one_service_is_charged_by_its_fee_code_so_the_order_keeps_the_tariff(client, app):
    offers = make_fee_offers()
    booking, _done = book(client, offers, berlin(open_tuesday(), 9), (offers.passport, 1), payment="online")
    [payment] = payments_of(booking)
    assert (payment.fee_code, payment.amount_cents) == ("REISEPASS", 7000)


def test_two_passports_cost_twice_the_fee(client, app):
    offers = make_fee_offers()
    page = to_check_page(client, offers, berlin(open_tuesday(), 9), (offers.passport, 2))
    assert "Gebühr: 140,00 €" in text(page)
    booking, _done = book(client, offers, berlin(open_tuesday(), 9), (offers.passport, 2), payment="online")
    [payment] = payments_of(booking)
    assert payment.amount_cents == 14000


def test_paying_at_the_desk_makes_no_payment_order(client, app):
    offers = make_fee_offers()
    booking, done = book(client, offers, berlin(open_tuesday(), 9), payment="counter")
    assert payments_of(booking) == []
    fee = fee_of(booking)
    assert fee is not None and (fee.method, fee.amount_cents) == ("counter", 10700)
    assert "Die Gebühr von 107,00 € bezahlen Sie am Tag des Termins am Schalter." in text_of(done)
    assert not re.search(r"/bezahlen/[0-9a-f]{32}", done)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_failure_later_in_the_booking_takes_the_payment_order_back_with_it(app, monkeypatch):
    offers = make_fee_offers()

    def mail_server_down(*_args, **_kwargs):
        raise RuntimeError("the outbox refused the mail")

    monkeypatch.setattr(booking_mail, "send", mail_server_down)
    with pytest.raises(RuntimeError):
        booking_service.hold_booking(
            ANONYMOUS,
            location_id=offers.mitte.id,
            items=[(offers.id_card.id, 1)],
            start=berlin(open_tuesday(), 9),
            name="Erika Mustermann",
            email="erika@example.org",
            payment="online",
        )
    for model in (Booking, BookingFee, Payment):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_an_unknown_way_to_pay_is_refused_by_the_service(app):
    from appointments.errors import BookingError

    offers = make_fee_offers()
    with pytest.raises(BookingError) as refused:
        booking_service.hold_booking(
            ANONYMOUS,
            location_id=offers.mitte.id,
            items=[(offers.id_card.id, 1)],
            start=berlin(open_tuesday(), 9),
            name="Erika Mustermann",
            email="erika@example.org",
            payment="bitcoin",
        )
    assert refused.value.field == "payment"
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0


def test_a_booking_through_the_api_pays_at_the_desk(app):
    offers = make_fee_offers()
    held = booking_service.hold_booking(
        ANONYMOUS,
        location_id=offers.mitte.id,
        items=[(offers.id_card.id, 1)],
        start=berlin(open_tuesday(), 9),
        name="Erika Mustermann",
        email="erika@example.org",
    )
    fee = fee_of(held.booking)
    assert fee is not None and (fee.method, fee.amount_cents) == ("counter", 3700)
    assert payments_of(held.booking) == []


class TestWithPaymentsSwitchedOff:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "SERVICES": ["appointments"]}

    def test_the_booking_flow_is_unchanged(self, client, app):
        offers = make_fee_offers()  # fee links exist, but nothing may come of them
        page = to_check_page(client, offers, berlin(open_tuesday(), 9))
        assert page.status_code == 200
        assert "Gebühr" not in text(page)
        assert "bezahlen" not in text(page).lower()
        _booking, done = book(client, offers, berlin(open_tuesday(), 9), payment=None)
        assert db.session.scalar(sa.select(sa.func.count(BookingFee.booking_id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0
        assert not re.search(r"/bezahlen/[0-9a-f]{32}", done)
        assert client.get("/admin/termine/gebuehren").status_code in (302, 404)


def test_a_fee_code_missing_from_the_fee_catalogue_charges_nothing(client, app):
    from tests.appointments.fees.builders import link_fee
    from tests.appointments.web.builders import make_offers

    offers = make_offers()
    link_fee(offers.id_card, "GIBT-ES-NICHT")
    page = to_check_page(client, offers, berlin(open_tuesday(), 9), (offers.id_card, 1))
    assert "Gebühr" not in text(page)
    booking, _done = book(client, offers, berlin(open_tuesday(), 9), (offers.id_card, 1), payment=None)
    assert fee_of(booking) is None
