"""Payment orders: created for another service's case, paid in attempts, moved only forward.

Other services ask for money through `request_payment` (its own transaction) or `create_payment` (inside
the caller's transaction, so that a case and its payment order commit together). When the payment
succeeds, the callback the service registered under `on_success` runs in the same transaction as the status
change and its audit event, so "paid" and "the permit is active" can never disagree.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext as _

import payments.actions  # noqa: F401  (declares the audit actions)
from payments import state
from payments.errors import PaymentError, PaymentNotFound
from payments.models import AttemptStatus, Payment, PaymentAttempt, PaymentStatus
from payments.services import fees
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.references import is_valid_kassenzeichen, next_kassenzeichen
from portal.references.kassenzeichen import compact
from portal.timeutil import utcnow
from portal.transaction import transaction

CALLBACKS_KEY = "payments_success_callbacks"
MAX_AMOUNT_CENTS = 100_000_000  # 1 Mio. €: above that, a fee is not paid online
NUL = "\x00"

SuccessCallback = Callable[[Payment], None]


def register_success_callback(app: Flask, name: str, callback: SuccessCallback) -> None:
    """Let a service react to a succeeded payment, in the same transaction (e.g. mark the booking paid)."""
    callbacks: dict[str, SuccessCallback] = app.extensions.setdefault(CALLBACKS_KEY, {})
    if name in callbacks and callbacks[name] is not callback:
        raise ValueError(f"payment callback {name!r} is registered twice")
    callbacks[name] = callback


@dataclass(frozen=True)
class Payer:
    user_id: int | None = None
    organisation_id: int | None = None
    email: str | None = None

    @classmethod
    def of(cls, actor: Actor) -> Payer:
        if actor.user is None:
            return cls()
        return cls(actor.user.id, actor.organisation_id, actor.user.email)


def _clean_text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PaymentError(field, _("Dieses Feld darf nicht leer sein."), "required")
    text = " ".join(value.split())
    if NUL in text:
        raise PaymentError(field, _("Der Text enthält ungültige Zeichen."), "invalid_characters")
    if len(text) > limit:
        raise PaymentError(field, _("Höchstens %(n)s Zeichen.", n=limit), "too_long")
    return text


def _clean_amount(amount_cents: Any) -> int:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise PaymentError("amount_cents", _("Geben Sie den Betrag in Cent als ganze Zahl an."), "not_an_integer")
    if amount_cents <= 0:
        raise PaymentError("amount_cents", _("Der Betrag muss größer als 0 sein."), "amount_not_positive")
    if amount_cents > MAX_AMOUNT_CENTS:
        raise PaymentError("amount_cents", _("Dieser Betrag ist zu hoch für eine Online-Zahlung."), "amount_too_high")
    return amount_cents


def _clean_return_url(url: str | None) -> str | None:
    """Only addresses on our own site: a payment must never send the payer to somebody else's page."""
    if url is None or url == "":
        return None
    if not isinstance(url, str) or len(url) > 500 or NUL in url or any(ord(c) < 32 for c in url):
        raise PaymentError("return_url", _("Die Rücksprungadresse ist ungültig."), "invalid_return_url")
    parts = urlsplit(url)
    base = urlsplit(current_app.config["BASE_URL"])
    relative = not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//")
    same_site = (parts.scheme, parts.netloc) == (base.scheme, base.netloc)
    if not (relative or same_site) or "\\" in url:
        raise PaymentError(
            "return_url", _("Die Rücksprungadresse muss auf dem Stadtportal liegen."), "foreign_return_url"
        )
    return url


def create_payment(
    actor: Actor,
    *,
    service: str,
    case_reference: str,
    purpose: str,
    fee_code: str | None = None,
    quantity: int | None = None,
    amount_cents: int | None = None,
    budget_line: str | None = None,
    payer: Payer | None = None,
    return_url: str | None = None,
    on_success: str | None = None,
) -> Payment:
    """A new payment order inside the caller's transaction (nothing is committed here).

    Either `fee_code` (with `quantity` for a rate such as per m² and day) or `amount_cents` with a
    `budget_line`. The amount is fixed now and never changes; a Kassenzeichen is assigned.
    """
    purpose = _clean_text(purpose, "purpose", 140)
    case_reference = _clean_text(case_reference, "case_reference", 60)
    service = _clean_text(service, "service", 40)
    version = None
    if fee_code is not None:
        version = fees.version_for(fee_code)
        amount = fees.amount_for(version, quantity)
        line = version.fee.budget_line
    else:
        amount = _clean_amount(amount_cents)
        line = _clean_text(budget_line or current_app.config["PAYMENTS_DEFAULT_BUDGET_LINE"], "budget_line", 60)
    if on_success is not None and on_success not in current_app.extensions.get(CALLBACKS_KEY, {}):
        raise ValueError(f"payment callback {on_success!r} is not registered")
    payer = payer or Payer.of(actor)
    payment = Payment(
        public_id=secrets.token_hex(16),
        kassenzeichen=next_kassenzeichen(current_app.config["PAYMENTS_KASSENZEICHEN_AREA"]),
        amount_cents=amount,
        purpose=purpose,
        service=service,
        case_reference=case_reference,
        fee_version_id=version.id if version else None,
        fee_code=version.fee.code if version else None,
        budget_line=line,
        payer_user_id=payer.user_id,
        payer_organisation_id=payer.organisation_id,
        payer_email=payer.email,
        status=PaymentStatus.CREATED.value,
        provider=current_app.config["PAYMENT_PROVIDER"],
        return_url=_clean_return_url(return_url),
        on_success=on_success,
    )
    db.session.add(payment)
    audit.record(
        "payment.created",
        actor,
        target=payment,
        subject_user_id=payer.user_id,
        kassenzeichen=payment.kassenzeichen,
        amount_cents=amount,
        service=service,
        case_reference=case_reference,
        fee_code=payment.fee_code,
    )
    return payment


def request_payment(actor: Actor, **kwargs: Any) -> Payment:
    """`create_payment` in a transaction of its own."""
    with transaction():
        return create_payment(actor, **kwargs)


# --- reading ----------------------------------------------------------------------------------------------


def may_see(actor: Actor, payment: Payment) -> bool:
    if actor.has_role("treasury") or actor.has_role("platform_admin"):
        return True
    if actor.kind == "client":
        return "payments" in actor.scopes
    if actor.user is None:
        return False
    if payment.payer_user_id == actor.user.id:
        return True
    return payment.payer_organisation_id is not None and payment.payer_organisation_id == actor.organisation_id


def get_payment(actor: Actor, public_id: str) -> Payment:
    if not isinstance(public_id, str) or len(public_id) != 32 or not public_id.isalnum():
        raise PaymentNotFound()
    payment = db.session.scalar(sa.select(Payment).where(Payment.public_id == public_id))
    if payment is None or not may_see(actor, payment):
        raise PaymentNotFound()
    return payment


def get_payment_by_link(public_id: str) -> Payment:
    """The payment whose unguessable id is in the link (status page, checkout return): anyone holding it.

    The pages reached this way show what a paper bill shows (purpose, amount, Kassenzeichen, status), never
    who the payer is, so a guest who booked without an account can pay and come back.
    """
    if not isinstance(public_id, str) or len(public_id) != 32 or not public_id.isalnum():
        raise PaymentNotFound()
    payment = db.session.scalar(sa.select(Payment).where(Payment.public_id == public_id))
    if payment is None:
        raise PaymentNotFound()
    return payment


def find_bill(kassenzeichen: str, amount_cents: int) -> Payment:
    """The payment a paper notice names, found by its Kassenzeichen AND its amount.

    The amount is the second thing only the addressee knows, so trying Kassenzeichen in turn finds nothing (the
    route is rate limited as well). What the page then shows is what the notice shows.
    """
    if not is_valid_kassenzeichen(kassenzeichen or ""):
        raise PaymentError(
            "kassenzeichen",
            _("Dieses Kassenzeichen ist nicht gültig; bitte prüfen Sie die Ziffern."),
            "invalid_kassenzeichen",
        )
    payment = db.session.scalar(sa.select(Payment).where(Payment.kassenzeichen == compact(kassenzeichen)))
    if payment is None or payment.amount_cents != amount_cents:
        raise PaymentNotFound()
    return payment


def payments_of(actor: Actor, limit: int = 100) -> list[Payment]:
    """The actor's own payments (and those of the business they act for), newest first."""
    if actor.user is None:
        return []
    who = Payment.payer_user_id == actor.user.id
    if actor.organisation_id is not None:
        who = sa.or_(who, Payment.payer_organisation_id == actor.organisation_id)
    return list(db.session.scalars(sa.select(Payment).where(who).order_by(Payment.created_at.desc()).limit(limit)))


def payments_for_case(service: str, case_reference: str) -> list[Payment]:
    """For the service that owns the case: its payment orders, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.service == service, Payment.case_reference == case_reference)
            .order_by(Payment.id)
        )
    )


# --- moving the state -------------------------------------------------------------------------------------


def _lock(payment_id: int) -> Payment:
    """Re-read the payment with a row lock (PostgreSQL), so concurrent events for it apply one at a time.

    FOR NO KEY UPDATE: rows that point at the payment (events, attempts, refunds) take a key-share lock on it
    when inserted; a plain FOR UPDATE would wait for those and deadlock with a transaction doing the reverse.
    """
    payment = db.session.scalar(
        sa.select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if payment is None:
        raise PaymentNotFound()
    return payment


def move(actor: Actor, payment: Payment, new: PaymentStatus, *, reason: str, **details: Any) -> bool:
    """Move the payment to `new` if the state machine allows it; False (and nothing written) otherwise.

    Runs inside the caller's transaction; on success the service's callback runs in it too.
    """
    old = PaymentStatus(payment.status)
    if not state.may_move(old, new):
        return False
    if old == new and new != PaymentStatus.STARTED and new != PaymentStatus.PARTIALLY_REFUNDED:
        return False
    payment.status = new.value
    now = utcnow()
    if new == PaymentStatus.SUCCEEDED:
        payment.succeeded_at = now
        payment.finished_at = now
    elif new in state.UNSUCCESSFUL or new in state.ENDED:
        payment.finished_at = now
    audit.record(
        "payment.status_changed",
        actor,
        target=payment,
        subject_user_id=payment.payer_user_id,
        kassenzeichen=payment.kassenzeichen,
        old=old.value,
        new=new.value,
        reason=reason,
        **details,
    )
    if new == PaymentStatus.SUCCEEDED and payment.on_success:
        callbacks: dict[str, SuccessCallback] = current_app.extensions.get(CALLBACKS_KEY, {})
        callbacks[payment.on_success](payment)
    return True


CANCELLABLE = state.UNPAID


def cancel_for_cases(
    actor: Actor, service: str, case_references: list[str], *, reason: str = "case_cancelled"
) -> list[Payment]:
    """For the service that owns the cases, inside its transaction (a cancelled booking, a closed day): withdraw
    their payment orders nobody has paid yet (audited): they are no longer payable nor outstanding. Returns them.

    Every payment order of the cases is locked first, in id order, before anything is changed or audited, and
    stays locked until the caller commits: a webhook confirming one of them finishes before (the service's
    callback has then run) or waits until after. So the caller may read what is paid now, and ask for refunds
    with `refunds.create_case_refunds` (call both before your own audit.record, for the lock order).

    A payer who still had the provider's page open can pay all the same (`withdrawn` → `succeeded`, see
    payments.state), and then the success callback runs as always; the service decides there what a payment
    for a cancelled case means (appointments refunds it).
    """
    found = [p for reference in dict.fromkeys(case_references) for p in payments_for_case(service, reference)]
    locked = [_lock(payment_id) for payment_id in sorted({p.id for p in found})]
    cancelled = []
    for payment in locked:
        if PaymentStatus(payment.status) in CANCELLABLE and move(
            actor,
            payment,
            PaymentStatus.WITHDRAWN,
            reason=reason,
            service=service,
            case_reference=payment.case_reference,
        ):
            cancelled.append(payment)
    return cancelled


def cancel_for_case(
    actor: Actor, service: str, case_reference: str, *, reason: str = "case_cancelled"
) -> list[Payment]:
    """`cancel_for_cases` for one case."""
    return cancel_for_cases(actor, service, [case_reference], reason=reason)


def latest_attempt(payment: Payment) -> PaymentAttempt | None:
    return db.session.scalar(
        sa.select(PaymentAttempt).where(PaymentAttempt.payment_id == payment.id).order_by(PaymentAttempt.id.desc())
    )


def finish_attempt(
    actor: Actor,
    attempt: PaymentAttempt,
    outcome: AttemptStatus,
    *,
    method: str | None = None,
    reason: str,
    **details: Any,
) -> bool:
    """Record an attempt's outcome (inside the caller's transaction) and move its payment if that follows.

    A finished attempt never changes again; the payment follows an unsuccessful outcome only when the attempt
    is its latest one (a failure of an old attempt must not undo a newer one), and follows success always.
    Returns whether anything changed.
    """
    payment = _lock(attempt.payment_id)
    if AttemptStatus(attempt.status) in state.FINISHED_ATTEMPT:
        return False
    attempt.status = outcome.value
    attempt.finished_at = utcnow()
    attempt.method = method or attempt.method
    is_latest = latest_attempt(payment) is attempt
    if outcome == AttemptStatus.SUCCEEDED:
        payment.method = attempt.method
        move(actor, payment, PaymentStatus.SUCCEEDED, reason=reason, attempt_id=attempt.id, **details)
    elif is_latest:
        move(actor, payment, state.payment_status_for(outcome), reason=reason, attempt_id=attempt.id, **details)
    else:
        audit.record(
            "payment.attempt_finished",
            actor,
            target=attempt,
            subject_user_id=payment.payer_user_id,
            kassenzeichen=payment.kassenzeichen,
            outcome=outcome.value,
            reason=reason,
        )
    return True
