"""The payments service's audit actions."""

from portal.audit.registry import declare

declare(
    "payment.created", ["kassenzeichen", "amount_cents", "service", "case_reference"], "A payment order was created"
)
declare("payment.status_changed", ["kassenzeichen", "old", "new", "reason"], "A payment moved to a new status")
declare("payment.attempt_started", ["kassenzeichen", "provider"], "The payer started paying at a provider")
declare("payment.attempt_finished", ["kassenzeichen", "outcome", "reason"], "An older attempt ended without effect")
declare("payment.fee_saved", ["code"], "A fee of the catalogue was created or changed")
declare("payment.fee_version_added", ["code", "valid_from"], "A new tariff of a fee was added")
