"""The receipt (Quittung) of a paid payment as a PDF, in the city's letterhead (portal.pdf).

It shows what a paper receipt of the cash office shows: Kassenzeichen, purpose, amount, when and how it was
paid, the case it belongs to, and refunds that were made or are under way. It names no payer, so handing it
out by the payment's unguessable link (like the status page) gives away nothing the link did not already.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from payments import state
from payments.errors import PaymentError
from payments.models import Payment, PaymentStatus, Refund, RefundStatus
from portal.pdf import Block, Document, Heading, KeyValues, Paragraph, SmallPrint, Table, render_pdf
from portal.references import format_kassenzeichen
from portal.timeutil import to_berlin

LANGUAGES = ("de", "en")

METHOD_LABELS: dict[str, Any] = {
    "card": _l("Karte (Kredit- oder Debitkarte)"),
    "sepa_debit": _l("SEPA-Lastschrift"),
    "paypal": _l("PayPal"),
    "klarna": _l("Klarna"),
    "bank_transfer": _l("Überweisung"),
}
# What the payer is told about a refund; refunds not yet approved are the treasury's business, not theirs.
REFUND_LABELS: dict[str, Any] = {
    RefundStatus.PENDING: _l("in Bearbeitung"),
    RefundStatus.SUCCEEDED: _l("erstattet"),
}


def euro_text(cents: int) -> str:
    """1234 -> "12,34 €": the notation of the pages' `euro` filter, for texts written outside a template."""
    whole, rest = divmod(int(cents), 100)
    return f"{whole:,}".replace(",", ".") + f",{rest:02d} €"


def method_text(method: str | None) -> str:
    if not method:
        return _("Online-Zahlung")
    return str(METHOD_LABELS.get(method, method))


def moment_text(value: datetime | None, language: str = "de") -> str:
    """A moment in Berlin time: "30.11.2026, 10:15 Uhr" (German) or "30/11/2026, 10:15" (English)."""
    if value is None:
        return "–"
    local = to_berlin(value)
    return local.strftime("%d.%m.%Y, %H:%M Uhr") if language == "de" else local.strftime("%d/%m/%Y, %H:%M")


def shown_refunds(payment: Payment) -> list[Refund]:
    """The refunds the payer is told of: approved and under way, or made."""
    return [r for r in payment.refunds if r.status in (RefundStatus.PENDING.value, RefundStatus.SUCCEEDED.value)]


def _blocks(payment: Payment, language: str) -> list[Block]:
    rows = [
        (_("Kassenzeichen"), format_kassenzeichen(payment.kassenzeichen)),
        (_("Verwendungszweck"), payment.purpose),
        (_("Betrag"), euro_text(payment.amount_cents)),
        (_("Bezahlt am"), moment_text(payment.succeeded_at, language)),
        (_("Zahlungsart"), method_text(payment.method)),
        (_("Vorgang"), payment.case_reference),
    ]
    if payment.refunded_cents:
        rows.append((_("Bereits erstattet"), euro_text(payment.refunded_cents)))
    blocks: list[Block] = [
        Paragraph(_("Die Stadtkasse bestätigt den Eingang der folgenden Zahlung.")),
        KeyValues(rows),
    ]
    refunds = shown_refunds(payment)
    if refunds:
        blocks.append(Heading(_("Erstattungen")))
        blocks.append(
            Table(
                [_("Beantragt am"), _("Betrag"), _("Stand"), _("Erstattet am")],
                [
                    [
                        moment_text(refund.created_at, language),
                        euro_text(refund.amount_cents),
                        str(REFUND_LABELS[RefundStatus(refund.status)]),
                        moment_text(refund.finished_at, language) if refund.finished_at else "–",
                    ]
                    for refund in refunds
                ],
                widths=(3, 2, 2, 3),
            )
        )
    if payment.provider == "sandbox":
        blocks.append(
            SmallPrint(
                _("Testzahlung: Dieses Stadtportal läuft mit dem Test-Zahlungsdienst, es ist kein Geld geflossen.")
            )
        )
    blocks.append(
        SmallPrint(
            _(
                "Diese Quittung wurde maschinell erstellt und ist ohne Unterschrift gültig. Bitte geben Sie bei "
                "Rückfragen an die Stadtkasse das Kassenzeichen an."
            )
        )
    )
    return blocks


def render_receipt(payment: Payment, language: str = "de") -> bytes:
    """The receipt of a paid (or since refunded) payment as PDF bytes, in German or English."""
    if PaymentStatus(payment.status) not in state.PAID:
        raise PaymentError("payment", _("Für eine unbezahlte Zahlung gibt es keine Quittung."), "not_paid", 409)
    language = language if language in LANGUAGES else "de"
    with force_locale(language):
        document = Document(
            title=_("Quittung"),
            language=language,
            subject=_("Zahlungsbestätigung, Kassenzeichen %(kz)s", kz=format_kassenzeichen(payment.kassenzeichen)),
            department=_("Stadtkasse"),
            blocks=_blocks(payment, language),
        )
        return render_pdf(document)


def receipt_filename(payment: Payment) -> str:
    return f"quittung-{payment.kassenzeichen}.pdf"
