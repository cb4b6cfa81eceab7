"""Two treasury people ask for refunds of the same payment at the same moment: together they can never reserve
more than was paid. Each request runs in its own thread, app context and connection; the first request is
held inside its transaction (right after its reservation) until the second has started, so they overlap."""

from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa

from payments.errors import PaymentError
from payments.models import Payment, Refund
from payments.services import refunds
from portal.actors import Actor
from portal.extensions import db
from tests.payments.builders import make_paid_payment, make_treasurer

pytestmark = pytest.mark.skipif(
    os.environ.get("STADTPORTAL_TEST_DB", "sqlite") != "postgresql",
    reason="concurrent writers need PostgreSQL (SQLite serialises whole-database writes)",
)


def test_two_concurrent_refunds_that_together_exceed_the_amount_one_is_refused(app, monkeypatch):
    payment = make_paid_payment(amount_cents=3700)
    user_ids = [make_treasurer("kasse@stadt.example").id, make_treasurer("kasse2@stadt.example").id]
    public_id, payment_id = payment.public_id, payment.id
    first_reserved = threading.Event()
    real_reserve = refunds._reserve

    def reserve_and_linger(pid: int, amount: int) -> bool:
        done = real_reserve(pid, amount)
        if not first_reserved.is_set():
            first_reserved.set()
            threading.Event().wait(0.5)  # hold the row lock while the other request arrives
        return done

    monkeypatch.setattr(refunds, "_reserve", reserve_and_linger)
    outcomes: dict[int, str] = {}

    def ask(user_id: int, delay: bool) -> None:
        from portal.accounts.models import User

        with app.app_context():
            try:
                if delay:
                    first_reserved.wait(10)
                actor = Actor.for_user(db.session.get(User, user_id))
                refunds.request_refund(actor, public_id, 2500, "Doppelt bezahlt")
                outcomes[user_id] = "reserved"
            except PaymentError as error:
                outcomes[user_id] = error.code
            except Exception as error:  # reported by the assertion below
                outcomes[user_id] = f"error: {error!r}"
            finally:
                db.session.remove()

    db.session.remove()
    threads = [
        threading.Thread(target=ask, args=(user_ids[0], False)),
        threading.Thread(target=ask, args=(user_ids[1], True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes.values()) == ["over_refundable", "reserved"], outcomes
    assert db.session.get(Payment, payment_id).refund_reserved_cents == 2500
    assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 1


def test_many_concurrent_small_refunds_never_reserve_more_than_the_amount(app):
    payment = make_paid_payment(amount_cents=1000)
    user_id = make_treasurer().id
    public_id, payment_id = payment.public_id, payment.id
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def ask() -> None:
        from portal.accounts.models import User

        with app.app_context():
            try:
                actor = Actor.for_user(db.session.get(User, user_id))
                barrier.wait()
                refunds.request_refund(actor, public_id, 300, "Teilerstattung")
                outcomes.append("reserved")
            except PaymentError as error:
                outcomes.append(error.code)
            except Exception as error:
                outcomes.append(f"error: {error!r}")
            finally:
                db.session.remove()

    db.session.remove()
    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["over_refundable"] * 5 + ["reserved"] * 3, outcomes
    assert db.session.get(Payment, payment_id).refund_reserved_cents == 900
    keys = db.session.scalars(sa.select(Refund.idempotency_key)).all()
    assert len(set(keys)) == 3
