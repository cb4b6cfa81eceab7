"""A permit's fee and the payments service: the payment order made with the fee notice, and the paid event.

- Granted with a fee: `issue_fee_notice` asks payments.services.orders.create_payment for a payment order inside
  the decision's transaction (one commit for the decision, its documents, the order and the mail, or none). The
  order names the case by its reference and the callback "permits.fee_paid".
- Paid: the payments service calls `fee_paid` in the transaction that marks the payment succeeded; the case moves
  fee_notice → paid there, and on to active when its period has begun (before that, permits.services.lifecycle
  does it on the first day). This callback is the only way permits learns that a fee is paid;
  it never reads payments' tables.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask
from flask_babel import gettext as _

from permits.models import PermitApplication, PermitState
from portal.actors import Actor
from portal.extensions import db

log = logging.getLogger(__name__)

SERVICE = "permits"
CALLBACK = "permits.fee_paid"
PAYMENTS_ACTOR = Actor("system", label="permits-payments")
S = PermitState


def register(app: Flask) -> None:
    from payments.services import orders

    orders.register_success_callback(app, CALLBACK, fee_paid)


def payer_of(application: PermitApplication):  # -> payments.services.orders.Payer
    from payments.services import orders

    return orders.Payer(
        user_id=application.user_id, organisation_id=application.organisation_id, email=application.applicant_email
    )


def issue_fee_notice(actor: Actor, application: PermitApplication) -> None:
    """Inside the decision's transaction: the payment order, its Kassenzeichen on the case, the fee notice PDF,
    and the move granted → fee_notice (audited)."""
    from payments.services import orders
    from permits.services import decisions
    from permits.services.applications import _set_state

    assert application.fee_cents and application.reference
    payment = orders.create_payment(
        actor,
        service=SERVICE,
        case_reference=application.reference,
        purpose=_("Sondernutzungserlaubnis %(reference)s", reference=application.reference),
        amount_cents=application.fee_cents,
        payer=payer_of(application),
        return_url=f"/sondernutzung/antraege/{application.public_id}",
        on_success=CALLBACK,
    )
    application.payment_public_id = payment.public_id
    application.kassenzeichen = payment.kassenzeichen
    decisions.store_fee_notice(application)
    _set_state(
        actor,
        application,
        S.FEE_NOTICE,
        "permits.fee_notice_issued",
        kassenzeichen=payment.kassenzeichen,
        amount_cents=payment.amount_cents,
    )


def payment_path(application: PermitApplication) -> str | None:
    """The payer's page of the payments service while the fee is open."""
    if application.state != S.FEE_NOTICE or not application.payment_public_id:
        return None
    return f"/bezahlen/{application.payment_public_id}"


def fee_paid(payment) -> None:  # payment: payments.models.Payment
    """The payments service's success callback, inside its transaction (must not commit): paid, then active."""
    from permits.services import lifecycle
    from permits.services.applications import _set_state

    application = db.session.scalar(
        sa.select(PermitApplication).where(PermitApplication.reference == payment.case_reference)
    )
    if application is None:
        log.warning("payment %s names an unknown permit case %s", payment.kassenzeichen, payment.case_reference)
        return
    if payment.public_id != application.payment_public_id:
        # Only the fee notice's own order puts the permit in force, not another order naming the same case.
        log.warning("payment %s is not the fee notice of case %s", payment.kassenzeichen, application.reference)
        return
    if application.state != S.FEE_NOTICE:
        log.warning(
            "payment %s for case %s in state %s", payment.kassenzeichen, application.reference, application.state
        )
        return
    _set_state(PAYMENTS_ACTOR, application, S.PAID, "permits.fee_paid", kassenzeichen=payment.kassenzeichen)
    # Paid before its first day, the permit waits in `paid`; the calendar job puts it in force on that day.
    lifecycle.activate_if_due(PAYMENTS_ACTOR, application, "paid")
