"""The four-eyes decision on a refund: the approval kind `payments.refund` and its callbacks.

The callbacks run inside the core's deciding transaction (portal.approvals). Approved: the refund is pending
and is sent to the provider once the decision has committed (refund_sending), or waits as the treasury's own
transfer when the payment came by bank transfer (payouts). Rejected: the refund ends and its reservation is
given back (refund_outcomes). `register_kind` is importable from payments.services.refunds.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, after_this_request, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

import payments.actions  # noqa: F401  (declares the audit actions)
from payments.models import Payment, Refund, RefundStatus
from payments.services import payouts
from payments.services.receipts import euro_text
from payments.services.refund_outcomes import close_unapproved, lock_refund
from payments.services.refund_sending import send_approved_refunds
from portal.actors import Actor
from portal.approvals import services as approvals
from portal.approvals.models import ApprovalRequest
from portal.audit import services as audit
from portal.extensions import db
from portal.references import format_kassenzeichen

log = logging.getLogger(__name__)

APPROVAL_KIND = "payments.refund"
REQUESTER_ROLE = "treasury"  # asks for refunds, and a second one decides them


def _awaiting(request: ApprovalRequest) -> tuple[Payment, Refund]:
    payment, refund = lock_refund(int(request.payload["refund_id"]))
    if refund.status != RefundStatus.AWAITING_APPROVAL.value:
        raise approvals.ApprovalError(_l("Diese Erstattung kann nicht mehr entschieden werden."), "refund_finished")
    return payment, refund


def on_approved(actor: Actor, request: ApprovalRequest) -> None:
    """Approved: the refund is pending and will be sent to the provider once the decision is committed; a
    refund of a bank transfer waits for the treasury's own transfer instead."""
    payment, refund = _awaiting(request)
    refund.status = RefundStatus.PENDING.value
    audit.record(
        "payment.refund_approved",
        actor,
        target=refund,
        subject_user_id=payment.payer_user_id,
        kassenzeichen=payment.kassenzeichen,
        amount_cents=refund.amount_cents,
        approval=request.reference,
    )
    if payouts.is_manual(payment):
        payouts.open_payout(actor, payment, refund)
    elif has_request_context():
        # After the view has returned, i.e. after the decision's commit: the provider is never called while
        # the decision's locks are held, and a rolled-back decision leaves nothing pending to send.
        after_this_request(_send_after_response)


def _send_after_response(response: Any) -> Any:
    try:
        send_approved_refunds()
    except Exception:  # the decision stands; the sweeper sends what is left
        db.session.rollback()
        log.exception("sending approved refunds after the decision failed")
    return response


def on_rejected(actor: Actor, request: ApprovalRequest) -> None:
    payment, refund = _awaiting(request)
    close_unapproved(actor, payment, refund, request.decision_note or "rejected")


def describe(request: ApprovalRequest) -> str:
    return _(
        "Erstattung von %(amount)s für Kassenzeichen %(kz)s",
        amount=euro_text(int(request.payload["amount_cents"])),
        kz=format_kassenzeichen(str(request.payload["kassenzeichen"])),
    )


def approval_kind() -> approvals.ApprovalKind:
    return approvals.ApprovalKind(
        name=APPROVAL_KIND,
        label=_l("Erstattung einer Zahlung"),
        decider_roles=(REQUESTER_ROLE,),
        on_approved=on_approved,
        on_rejected=on_rejected,
        describe=describe,
        # The payer reads the refund's own events in their Protokoll; the approval's would only repeat them.
        citizen_visible=False,
    )


def register_kind(app: Flask) -> None:
    approvals.register_kind(app, approval_kind())
