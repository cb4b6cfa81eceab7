"""The sweeper: finishes what a crash, a lost answer or a missed webhook left unfinished. Safe to run any time.

Run by `flask payments sweep` and periodically by the worker (`sweep()`), it
1. fetches the checkout events Stripe kept since the oldest unfinished attempt, and the refund events since the
   oldest refund Stripe has not settled yet (at most a day back), and applies those we never received by their
   real ids (a webhook delivered later is then a duplicate);
2. asks again for the checkout of attempts whose provider answer was never stored (same idempotency key, so
   the same Checkout Session), or gives up on those too old to be shown to anyone;
3. asks the provider about attempts still open after a few minutes and applies what it says as an event
   `sweep:<reference>:<outcome>`. A real webhook for the same outcome may follow; the attempt is finished by
   then, so it changes nothing (and vice versa): whichever comes first wins, once;
4. fills in the payment method of Stripe payments whose webhook did not name it;
5. asks Stripe itself about refunds sent before the event list's window that are still pending here (their
   news may have been lost while the sweeper did not run), applied as an event `sweep:<refund>:<outcome>`;
6. sends approved refunds whose sending failed.
Every change goes through the same services as the webhooks, so it is audited the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import sqlalchemy as sa

from payments.errors import PaymentError, ProviderError
from payments.models import (
    MANUAL_PAYOUT_PREFIX,
    AttemptStatus,
    Payment,
    PaymentAttempt,
    ProviderEvent,
    Refund,
    RefundStatus,
)
from payments.providers import provider_for
from payments.providers.stripe_provider import CHECKOUT_EVENT_TYPES, StripeProvider
from payments.services import attempts, orders, webhooks
from payments.services.events import CheckoutEvent, RefundEvent, apply_checkout_event, apply_refund_event
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import as_utc, utcnow
from portal.transaction import transaction

log = logging.getLogger(__name__)

SWEEPER = Actor("system", label="payments-sweeper")
# An attempt is left alone this long: its payer is probably still on the provider's page.
STALE_AFTER = attempts.STALE_AFTER
# Without a stored checkout address nobody was ever sent to pay this attempt. Within this window its checkout
# is asked for again; after it, a new Stripe session could no longer get its 30 minutes, so the attempt ends.
RETRY_WINDOW = timedelta(minutes=25)
# How far back Stripe's event list is read. Stripe itself re-delivers a failed webhook for three days, so what
# is missing is mostly recent; an attempt older than this is still asked about on its own (step 3), and
# reading days of events on every run (SEPA debits stay unfinished for days) would cost more than it finds.
EVENT_LOOKBACK = timedelta(days=1)
# The clocks of Stripe and of this server are not the same: events are read from a little earlier.
CLOCK_SKEW = timedelta(minutes=5)
# Which method paid is looked up for payments this recent (Stripe keeps sessions longer; we need not).
METHOD_HORIZON = timedelta(days=29)
BATCH = 200
# The outcome a provider reports, as the checkout event that means it.
SYNTHETIC_TYPES = {
    "succeeded": "checkout.session.completed",
    "failed": "checkout.session.async_payment_failed",
    "expired": "checkout.session.expired",
}


@dataclass
class SweepReport:
    events_recovered: int = 0  # events from Stripe's list that changed something
    checkouts_completed: int = 0  # attempts whose lost provider answer was fetched again
    never_sent_expired: int = 0  # attempts nobody was ever sent to pay, ended
    succeeded: int = 0
    failed: int = 0
    expired: int = 0
    methods_filled: int = 0
    refunds_sent: int = 0  # approved refunds handed to the provider (those a failed send left behind)
    refunds_settled: int = 0  # refunds whose outcome Stripe told us when asked directly (step 5)
    errors: int = 0  # provider unreachable or refusing: tried again on the next run

    def __str__(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


def _stale_attempt_ids(now: datetime, stale_after: timedelta) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(PaymentAttempt.id)
            .where(PaymentAttempt.status == AttemptStatus.STARTED.value, PaymentAttempt.created_at <= now - stale_after)
            .order_by(PaymentAttempt.id)
            .limit(BATCH)
        )
    )


def _stripe_refunds_unsettled() -> sa.Select:
    """Refunds sent to Stripe that Stripe has not settled yet as far as we know (the treasury's own transfers of
    bank-transfer refunds are no business of Stripe's)."""
    return (
        sa.select(Refund)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(
            Payment.provider == "stripe",
            Refund.status == RefundStatus.PENDING.value,
            Refund.provider_reference.is_not(None),
            sa.not_(Refund.provider_reference.startswith(MANUAL_PAYOUT_PREFIX, autoescape=True)),
        )
    )


def _recover_stripe_events(report: SweepReport, now: datetime) -> None:
    oldest_attempt = db.session.scalar(
        sa.select(sa.func.min(PaymentAttempt.created_at)).where(
            PaymentAttempt.provider == "stripe", PaymentAttempt.status == AttemptStatus.STARTED.value
        )
    )
    sent = sa.func.coalesce(Refund.sent_at, Refund.created_at)
    oldest_refund = db.session.scalar(_stripe_refunds_unsettled().with_only_columns(sa.func.min(sent)))
    types: tuple[str, ...] = ()
    starts: list[datetime] = []
    if oldest_attempt is not None:
        types += CHECKOUT_EVENT_TYPES
        starts.append(as_utc(oldest_attempt))
    if oldest_refund is not None:
        types += webhooks.REFUND_EVENT_TYPES
        starts.append(as_utc(oldest_refund))
    if not starts:
        return
    since = max(min(starts) - CLOCK_SKEW, now - EVENT_LOOKBACK)
    try:
        provider = provider_for("stripe")
        assert isinstance(provider, StripeProvider)
        found = [
            event
            for event in provider.events_since(since, types)
            if webhooks._token(event.get("id")) and webhooks._token(event.get("type"), 100)
        ]
    except ProviderError:
        report.errors += 1
        return
    known = _known_event_ids([event["id"] for event in found])
    # Oldest first, so a `completed` is applied before the `expired` Stripe may have sent after it.
    for event in reversed(found):
        if event["id"] in known:
            continue  # delivered as a webhook already: skipped with a read instead of a failed insert
        try:
            outcome = webhooks.apply_stripe_event(SWEEPER, event)
        except webhooks.WebhookRejected:
            continue
        report.events_recovered += outcome == "applied"


def _known_event_ids(ids: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        known.update(
            db.session.scalars(
                sa.select(ProviderEvent.event_id).where(
                    ProviderEvent.provider == "stripe", ProviderEvent.event_id.in_(ids[start : start + 500])
                )
            )
        )
    return known


def _complete_or_give_up(report: SweepReport, attempt: PaymentAttempt, now: datetime) -> None:
    if as_utc(attempt.created_at) > now - RETRY_WINDOW:
        try:
            attempts.complete(SWEEPER, attempt.id)
        except PaymentError:
            report.errors += 1
            return
        report.checkouts_completed += 1
        return
    with transaction():
        if orders.finish_attempt(SWEEPER, attempt, AttemptStatus.EXPIRED, reason="sweep:never_sent_to_provider"):
            report.never_sent_expired += 1


def _ask_provider(report: SweepReport, attempt: PaymentAttempt) -> None:
    reference = attempt.provider_reference or ""
    try:
        remote = provider_for(attempt.provider).state_of(attempt)
    except (ProviderError, LookupError):
        report.errors += 1
        return
    if remote.outcome not in SYNTHETIC_TYPES:
        return
    event = CheckoutEvent(
        provider=attempt.provider,
        event_id=f"sweep:{reference}:{remote.outcome}",
        type=SYNTHETIC_TYPES[remote.outcome],
        attempt_reference=reference,
        paid=remote.outcome == "succeeded",
        method=remote.method,
    )
    if apply_checkout_event(SWEEPER, event) == "applied":
        setattr(report, remote.outcome, getattr(report, remote.outcome) + 1)


def _fill_methods(report: SweepReport, now: datetime) -> None:
    paid = db.session.scalars(
        sa.select(PaymentAttempt)
        .where(
            PaymentAttempt.provider == "stripe",
            PaymentAttempt.status == AttemptStatus.SUCCEEDED.value,
            PaymentAttempt.method.is_(None),
            PaymentAttempt.finished_at >= now - METHOD_HORIZON,
        )
        .limit(BATCH)
    ).all()
    for attempt in paid:
        try:
            method = provider_for("stripe").state_of(attempt).method
        except ProviderError:
            report.errors += 1
            return
        if not method:
            continue
        # Which method paid is a detail of the finished attempt, not a change of the payment's state.
        with transaction():
            locked = db.session.get(PaymentAttempt, attempt.id, with_for_update=True, populate_existing=True)
            assert locked is not None
            locked.method = method
            if locked.payment.method is None:
                locked.payment.method = method
        report.methods_filled += 1


def sweep(*, now: datetime | None = None, stale_after: timedelta = STALE_AFTER) -> SweepReport:
    """One run of the sweeper (see the module's docstring); commits as it goes, returns what it did."""
    now = now or utcnow()
    report = SweepReport()
    _recover_stripe_events(report, now)
    for attempt_id in _stale_attempt_ids(now, stale_after):
        attempt = db.session.get(PaymentAttempt, attempt_id, populate_existing=True)
        if attempt is None or attempt.status != AttemptStatus.STARTED.value:
            continue
        try:
            if attempt.provider_reference is None:
                _complete_or_give_up(report, attempt, now)
            else:
                _ask_provider(report, attempt)
        except Exception:
            # One bad attempt must not stop the others; it is logged and tried again on the next run.
            db.session.rollback()
            log.exception("payments sweeper: attempt %s failed", attempt_id)
            report.errors += 1
    _fill_methods(report, now)
    _ask_about_old_refunds(report, now)
    _send_refunds(report)
    return report


def _ask_about_old_refunds(report: SweepReport, now: datetime) -> None:
    """Refunds sent before the event list's window (step 1 sees news from within it only) are asked about
    one by one, so that a lost webhook never leaves a refund pending for good, however long the sweeper was off."""
    sent = sa.func.coalesce(Refund.sent_at, Refund.created_at)
    old = db.session.scalars(
        _stripe_refunds_unsettled().where(sent < now - EVENT_LOOKBACK + CLOCK_SKEW).order_by(Refund.id).limit(BATCH)
    ).all()
    if not old:
        return
    try:
        provider = provider_for("stripe")
        assert isinstance(provider, StripeProvider)
    except ProviderError:
        report.errors += 1
        return
    for refund in old:
        reference = refund.provider_reference or ""
        try:
            remote = provider.refund_state(reference)
        except ProviderError:
            report.errors += 1
            return
        if remote.status not in ("succeeded", "failed"):
            continue  # still under way at Stripe (a bank refund can take days)
        event = RefundEvent(
            provider="stripe",
            event_id=f"sweep:{reference}:{remote.status}",
            type="refund.failed" if remote.status == "failed" else "refund.updated",
            refund_reference=reference,
            status=remote.status,
            failure_reason=webhooks._token(remote.failure_reason, 200),
            refund_id=refund.id,
        )
        report.refunds_settled += apply_refund_event(SWEEPER, event) == "applied"


def _send_refunds(report: SweepReport) -> None:
    """Approved refunds whose sending failed (provider down, process killed) go out on the next run."""
    from payments.services import refunds

    sent = refunds.send_approved_refunds()
    report.refunds_sent += sent.sent
    report.errors += sent.errors
