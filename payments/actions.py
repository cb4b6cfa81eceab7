"""The payments service's audit actions."""

from flask_babel import lazy_gettext as _l

from portal.audit.queries import describe_action
from portal.audit.registry import declare

declare(
    "payment.created", ["kassenzeichen", "amount_cents", "service", "case_reference"], "A payment order was created"
)
declare("payment.status_changed", ["kassenzeichen", "old", "new", "reason"], "A payment moved to a new status")
declare("payment.attempt_started", ["kassenzeichen", "provider"], "The payer started paying at a provider")
declare("payment.attempt_finished", ["kassenzeichen", "outcome", "reason"], "An older attempt ended without effect")
declare("payment.fee_saved", ["code"], "A fee of the catalogue was created or changed")
declare("payment.fee_version_added", ["code", "valid_from"], "A new tariff of a fee was added")
# Refunds: asked for (money reserved), put up for the four-eyes decision, decided, sent, confirmed.
declare(
    "payment.refund_requested",
    ["kassenzeichen", "amount_cents", "reason"],
    "A refund was requested; its amount is reserved until it is rejected, fails or succeeds",
)
declare(
    "payment.refund_submitted",
    ["kassenzeichen", "amount_cents", "approval"],
    "A refund asked for by an API client or another service was put up for the four-eyes decision",
)
declare("payment.refund_approved", ["kassenzeichen", "amount_cents", "approval"], "A second person approved a refund")
declare(
    "payment.refund_rejected",
    ["kassenzeichen", "amount_cents", "reason"],
    "A refund was rejected or its approval withdrawn; the reserved amount is released",
)
declare(
    "payment.refund_sent", ["kassenzeichen", "amount_cents", "provider"], "An approved refund was sent to the provider"
)
declare("payment.refund_succeeded", ["kassenzeichen", "amount_cents"], "The provider confirmed a refund")
# A payment that came by bank transfer is paid back by the treasury's own transfer (payments.services.payouts).
declare(
    "payment.refund_payout_due",
    ["kassenzeichen", "amount_cents"],
    "An approved refund of a bank transfer waits for the treasury to transfer the money back",
)
declare(
    "payment.refund_paid_out",
    ["kassenzeichen", "amount_cents", "bank_reference", "executed_on"],
    "A treasury person confirmed the transfer that paid a refund back",
)
declare(
    "payment.refund_failed",
    ["kassenzeichen", "amount_cents", "reason"],
    "The provider could not carry out a refund; the reserved amount is released",
)
# Bank transfers: statements imported by the treasury, lines matched by Kassenzeichen or decided by hand.
declare(
    "payment.statement_imported",
    ["format", "lines", "new_lines", "matched"],
    "A bank statement was imported; its new lines were matched to payment orders where possible",
)
declare(
    "payment.bank_line_assigned",
    ["kassenzeichen", "received_cents", "amount_cents"],
    "The treasury assigned an unmatched bank transfer to a payment order by hand",
)
declare(
    "payment.bank_line_returned",
    ["amount_cents"],
    "The treasury marked an unmatched bank transfer as not ours / to be returned",
)
declare(
    "payment.reconciliation_exported",
    ["day", "format", "rows"],
    "The day's reconciliation (payments, refunds, outstanding orders) was exported",
)

# How the payer reads these in Mein Konto → Protokoll (the events carry the payer as subject).
_PAYER_TEXTS = {
    "payment.created": _l("Zahlung angelegt (Kassenzeichen vergeben)"),
    "payment.status_changed": _l("Stand einer Zahlung geändert"),
    "payment.attempt_started": _l("Bezahlvorgang begonnen"),
    "payment.attempt_finished": _l("Früherer Bezahlvorgang beendet"),
    "payment.bank_line_assigned": _l("Überweisung einer Zahlung zugeordnet"),
    "payment.refund_requested": _l("Erstattung beantragt"),
    "payment.refund_submitted": _l("Erstattung zur Freigabe vorgelegt"),
    "payment.refund_approved": _l("Erstattung freigegeben"),
    "payment.refund_rejected": _l("Erstattung abgelehnt"),
    "payment.refund_sent": _l("Erstattung an den Zahlungsdienst übergeben"),
    "payment.refund_payout_due": _l("Erstattung wartet auf Rücküberweisung durch die Stadtkasse"),
    "payment.refund_paid_out": _l("Erstattung von der Stadtkasse zurücküberwiesen"),
    "payment.refund_succeeded": _l("Erstattung ausgezahlt"),
    "payment.refund_failed": _l("Erstattung fehlgeschlagen"),
}
for _action, _text in _PAYER_TEXTS.items():
    describe_action(_action, _text)
