"""Rücküberweisungen: refunds of payments that came by bank transfer, paid back by the treasury's own transfer.

Money that arrived on the city's account from a bank statement never passed through a provider, so no provider
can pay it back: Stripe would refuse (there is no charge), and the sandbox would claim a success although no
money moved. Such a refund is asked for and approved like every other (four eyes, money reserved); approval
does not send it anywhere but opens a manual payout instead:

    pending, provider_reference "manual:<id>"              "Rücküberweisung offen" on /admin/kasse
        │ a treasury person made the transfer in the city's banking and confirms it with the bank's reference
        ▼
    succeeded, provider_reference "manual:<id>:<bank reference>", sent_at the day of the transfer

No column was added for this: the marker in `provider_reference` keeps these refunds out of the provider
sender's query (it sends only refunds without a reference) and out of any provider's news (a provider's event
finds a refund by its own reference), and the bank's reference ends up where the reconciliation reads a
refund's reference. Confirming goes through the same `_finish` as a provider's confirmation, so the payment
becomes (partially) refunded the same way, with its audit events, in the same transaction.

The payer's IBAN is shown when the statement line that paid the order carried one; otherwise the treasury types
the IBAN it transferred to when confirming. The audit trail, which is append-only, keeps only a masked IBAN;
the full one is in the bank's own records of the transfer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden

import payments.actions  # noqa: F401  (declares the audit actions)
from payments.errors import PaymentError, PaymentNotFound
from payments.models import MANUAL_PAYOUT_PREFIX, Payment, Refund, RefundStatus
from payments.services import orders, statements
from payments.services.bank_transfer import compact_iban, group_iban, is_valid_iban
from payments.services.refund_outcomes import finish_refund, lock_refund
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.references import format_kassenzeichen
from portal.timeutil import BERLIN, to_berlin, utcnow
from portal.transaction import transaction

METHOD = "bank_transfer"
VIEWER_ROLES = ("treasury", "platform_admin")
REFERENCE_MAX = 140  # as long as a bank's reference on a statement line
EPC_TEXT_MAX = 140


def is_manual(payment: Payment) -> bool:
    """A payment that came by bank transfer is refunded by the treasury's own transfer."""
    return payment.method == METHOD


def open_payout(actor: Actor, payment: Payment, refund: Refund) -> None:
    """Mark an approved refund as a payout the treasury makes by hand (in the caller's transaction, both locked)."""
    refund.provider_reference = f"{MANUAL_PAYOUT_PREFIX}{refund.id}"
    audit.record(
        "payment.refund_payout_due",
        actor,
        target=refund,
        subject_user_id=payment.payer_user_id,
        kassenzeichen=payment.kassenzeichen,
        amount_cents=refund.amount_cents,
    )


# --- reading ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payout:
    """An approved refund the treasury transfers back, with what it needs to make the transfer."""

    refund: Refund
    payment: Payment
    iban: str | None  # compact, from the statement line that paid the order, if it carried one
    account_holder: str | None

    @property
    def iban_grouped(self) -> str | None:
        return group_iban(self.iban) if self.iban else None

    @property
    def remittance(self) -> str:
        """The text for the transfer: the payer finds their Kassenzeichen again."""
        text = _("Erstattung Kassenzeichen %(kz)s", kz=format_kassenzeichen(self.payment.kassenzeichen))
        return text[:EPC_TEXT_MAX]


def _require_viewer(actor: Actor) -> None:
    if not any(actor.has_role(role) for role in VIEWER_ROLES):
        raise Forbidden()


def _payouts(refunds: list[Refund]) -> list[Payout]:
    lines = statements.paying_lines({r.payment_id for r in refunds})
    found = []
    for refund in refunds:
        line = lines.get(refund.payment_id)
        iban = compact_iban(line.remitter_iban or "") if line is not None else ""
        found.append(
            Payout(
                refund=refund,
                payment=refund.payment,
                iban=iban if is_valid_iban(iban) else None,
                account_holder=(line.remitter_name or None) if line is not None else None,
            )
        )
    return found


def open_payouts(actor: Actor, limit: int = 100) -> list[Payout]:
    """Approved refunds waiting for the treasury's transfer, oldest first."""
    _require_viewer(actor)
    refunds = list(
        db.session.scalars(
            sa.select(Refund)
            .where(
                Refund.status == RefundStatus.PENDING.value,
                Refund.provider_reference.startswith(MANUAL_PAYOUT_PREFIX, autoescape=True),
            )
            .order_by(Refund.id)
            .limit(limit)
        )
    )
    return _payouts([r for r in refunds if r.payout_open])


def get_payout(actor: Actor, refund_id: int) -> Payout:
    """One manual payout, open or done; PaymentNotFound for any other refund."""
    _require_viewer(actor)
    refund = db.session.get(Refund, refund_id)
    if refund is None or not refund.is_manual_payout:
        raise PaymentNotFound()
    return _payouts([refund])[0]


# --- confirming -------------------------------------------------------------------------------------------


def _clean_reference(value: Any) -> str:
    text = orders._clean_text(value, "bank_reference", REFERENCE_MAX)
    if not text.isprintable():
        raise PaymentError("bank_reference", _("Der Text enthält ungültige Zeichen."), "invalid_characters")
    return text


def _clean_day(value: Any, refund: Refund) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise PaymentError("executed_on", _("Geben Sie das Datum der Überweisung an."), "required")
    if value > to_berlin(utcnow()).date():
        raise PaymentError("executed_on", _("Das Datum der Überweisung liegt in der Zukunft."), "in_future")
    if value < to_berlin(refund.created_at).date():
        raise PaymentError("executed_on", _("Das Datum liegt vor dem Antrag auf diese Erstattung."), "before_request")
    return value


def _clean_iban(value: Any, known: str | None) -> tuple[str, str]:
    """The IBAN the money went to and where it came from: typed by the treasury, or the payer's from the statement."""
    typed = compact_iban(value) if isinstance(value, str) else ""
    if typed:
        if not is_valid_iban(typed):
            raise PaymentError(
                "iban", _("Das ist keine gültige IBAN (Länderkennung, Prüfziffern, Länge)."), "invalid_iban"
            )
        return typed, "entered" if typed != known else "statement"
    if known is None:
        raise PaymentError(
            "iban",
            _(
                "Der Kontoauszug nennt keine IBAN der zahlenden Person. "
                "Geben Sie die IBAN an, auf die Sie überwiesen haben."
            ),
            "iban_required",
        )
    return known, "statement"


def _masked(iban: str) -> str:
    return f"{iban[:4]}…{iban[-4:]}"


def confirm_payout(actor: Actor, refund_id: int, bank_reference: Any, executed_on: Any, iban: Any = None) -> Refund:
    """A treasury person has transferred the refund back: it succeeds and the payment follows, audited together.

    Refused: not a treasury person (403), not a manual payout (PaymentNotFound), already confirmed or no longer
    open (409), a missing or bad reference, date or IBAN (422).
    """
    from payments.services import refunds  # refunds opens payouts on approval: imported here, not at the top

    if not refunds.may_submit(actor):
        raise Forbidden()
    reference = _clean_reference(bank_reference)
    with transaction():
        payment, refund = lock_refund(refund_id)
        if not refund.is_manual_payout:
            raise PaymentNotFound()
        if not refund.payout_open or refund.payout_reference is not None:
            raise PaymentError("refund", _("Diese Rücküberweisung ist nicht mehr offen."), "payout_not_open", 409)
        day = _clean_day(executed_on, refund)
        known = _payouts([refund])[0].iban
        account, source = _clean_iban(iban, known)
        refund.provider_reference = f"{MANUAL_PAYOUT_PREFIX}{refund.id}:{reference}"
        # Only the day is known; noon in Berlin keeps it the same day when read back in Berlin time or UTC.
        refund.sent_at = datetime.combine(day, time(12), tzinfo=BERLIN)
        audit.record(
            "payment.refund_paid_out",
            actor,
            target=refund,
            subject_user_id=payment.payer_user_id,
            kassenzeichen=payment.kassenzeichen,
            amount_cents=refund.amount_cents,
            bank_reference=reference,
            executed_on=day.isoformat(),
            iban=_masked(account),
            iban_source=source,
        )
        finish_refund(actor, payment, refund, "succeeded", reason="manual_payout")
    return refund
