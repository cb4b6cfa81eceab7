"""Payments' part of "Meine Daten" and of deleting an account (the GDPR hooks of portal.gdpr).

Export: every payment the person made, with its refunds.

Erasure: payments are cash records (Kassenbelege). The city must keep them for the statutory retention period
(§ 147 Abs. 1 Nr. 4, Abs. 3 AO and the municipal cash rules (Gemeindekassenverordnung): ten years), so they are
neither deleted nor changed in what they record: Kassenzeichen, amount, purpose, case, dates, method, refunds.
What identifies the payer on them goes: the email address is cleared. `payer_user_id` is kept on purpose: the
account itself is pseudonymised by the deletion (no email, no name), so the id then points to an anonymous
account, and it keeps the payment matchable to the audit trail, which is kept for the same reasons. Refunds
still open are not touched: the money belongs to the person and the treasury completes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from payments.models import Payment
from payments.services.receipts import euro_text, method_text
from portal.extensions import db
from portal.gdpr import ErasureOutcome, register_erasure_handler, register_export_section, text, when
from portal.pdf import Block, Heading, KeyValues, Table
from portal.references import format_kassenzeichen

if TYPE_CHECKING:
    from datetime import datetime

    from portal.accounts.models import User
    from portal.actors import Actor

RETENTION_YEARS = 10
REFUND_TEXTS: dict[str, Any] = {
    "awaiting_approval": _l("beantragt"),
    "rejected": _l("abgelehnt"),
    "pending": _l("in Bearbeitung"),
    "succeeded": _l("erstattet"),
    "failed": _l("fehlgeschlagen"),
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _payments_of(user_id: int) -> list[Payment]:
    return list(
        db.session.scalars(sa.select(Payment).where(Payment.payer_user_id == user_id).order_by(Payment.created_at))
    )


def collect(user: User) -> list[dict[str, Any]]:
    return [
        {
            "kassenzeichen": payment.kassenzeichen,
            "purpose": payment.purpose,
            "amount_cents": payment.amount_cents,
            "currency": payment.currency,
            "status": payment.status,
            "service": payment.service,
            "case_reference": payment.case_reference,
            "method": payment.method,
            "payer_email": payment.payer_email,
            "created_at": _iso(payment.created_at),
            "paid_at": _iso(payment.succeeded_at),
            "refunded_cents": payment.refunded_cents,
            "refunds": [
                {
                    "amount_cents": refund.amount_cents,
                    "status": refund.status,
                    "requested_at": _iso(refund.created_at),
                    "finished_at": _iso(refund.finished_at),
                }
                for refund in payment.refunds
            ],
        }
        for payment in _payments_of(user.id)
    ]


def summary(data: list[dict[str, Any]]) -> list[Block]:
    from payments.views import STATUS_LABELS  # the payer's words for a status, as on the pages

    blocks: list[Block] = []
    for payment in data:
        blocks.append(Heading(_("Kassenzeichen %(kz)s", kz=format_kassenzeichen(payment["kassenzeichen"])), level=3))
        rows = [
            (_("Verwendungszweck"), payment["purpose"]),
            (_("Betrag"), euro_text(payment["amount_cents"])),
            (_("Stand"), str(STATUS_LABELS.get(payment["status"], payment["status"]))),
            (_("Vorgang"), payment["case_reference"]),
            (_("Zahlungsart"), method_text(payment["method"]) if payment["paid_at"] else "–"),
            (_("E-Mail-Adresse"), text(payment["payer_email"])),
            (_("Angelegt am"), when(payment["created_at"])),
            (_("Bezahlt am"), when(payment["paid_at"])),
        ]
        blocks.append(KeyValues(rows))
        if payment["refunds"]:
            blocks.append(
                Table(
                    [_("Erstattung"), _("Stand"), _("Beantragt am"), _("Abgeschlossen am")],
                    [
                        [
                            euro_text(refund["amount_cents"]),
                            str(REFUND_TEXTS.get(refund["status"], refund["status"])),
                            when(refund["requested_at"]),
                            when(refund["finished_at"]),
                        ]
                        for refund in payment["refunds"]
                    ],
                )
            )
    return blocks


def preview(user: User) -> list[str]:
    count = len(_payments_of(user.id))
    if not count:
        return []
    return [
        ngettext(
            "%(num)d Zahlung bleibt als Kassenbeleg %(years)d Jahre lang gespeichert (gesetzliche Aufbewahrungspflicht "
            "nach § 147 AO und Kassenrecht): Kassenzeichen, Betrag, Verwendungszweck und Datum, aber ohne Ihre "
            "E-Mail-Adresse.",
            "%(num)d Zahlungen bleiben als Kassenbelege %(years)d Jahre lang gespeichert (gesetzliche "
            "Aufbewahrungspflicht nach § 147 AO und Kassenrecht): Kassenzeichen, Betrag, Verwendungszweck und Datum, "
            "aber ohne Ihre E-Mail-Adresse.",
            count,
            years=RETENTION_YEARS,
        )
    ]


def erase(actor: Actor, user: User) -> ErasureOutcome:
    """Clear the payer's email on their payments, in the deletion's transaction; the records stay."""
    result = db.session.execute(
        sa.update(Payment)
        .where(Payment.payer_user_id == user.id, Payment.payer_email.is_not(None))
        .values(payer_email=None)
        .execution_options(synchronize_session=False)
    )
    cleared = result.rowcount or 0  # type: ignore[attr-defined]
    kept = len(_payments_of(user.id))
    return ErasureOutcome(
        description=(
            ngettext(
                "Zahlungen: %(num)d Kassenbeleg bleibt für die Aufbewahrungsfrist erhalten, ohne Ihre E-Mail-Adresse.",
                "Zahlungen: %(num)d Kassenbelege bleiben für die Aufbewahrungsfrist erhalten, ohne Ihre "
                "E-Mail-Adresse.",
                kept,
            )
            if kept
            else ""
        ),
        details={"kept": kept, "email_cleared": cleared} if kept else {},
    )


def register(app: Flask) -> None:
    register_export_section(app, "payments", _l("Zahlungen"), collect, summary)
    register_erasure_handler(app, "payments", erase, preview)
