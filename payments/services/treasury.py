"""What the treasury (Stadtkasse) looks up: payments by Kassenzeichen, case, status and period, and one payment
with everything that happened to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden

from payments.errors import PaymentError, PaymentNotFound
from payments.models import Payment, PaymentAttempt, PaymentStatus, Refund
from portal.actors import Actor
from portal.approvals.models import ApprovalRequest
from portal.audit import sequencer
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.references.kassenzeichen import LENGTH, compact, is_valid_kassenzeichen
from portal.timeutil import BERLIN

VIEWER_ROLES = ("treasury", "platform_admin")
SEARCH_LIMIT = 200
MAX_PERIOD_DAYS = 366 * 2


def require_viewer(actor: Actor) -> None:
    if not any(actor.has_role(role) for role in VIEWER_ROLES):
        raise Forbidden()


@dataclass(frozen=True)
class Search:
    kassenzeichen: str = ""
    case_reference: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def empty(self) -> bool:
        return not (self.kassenzeichen or self.case_reference or self.status or self.date_from or self.date_to)


def clean_kassenzeichen(text: str) -> str:
    """The 13 digits of a typed Kassenzeichen (spaces, dots and hyphens allowed); a clear error for a typo."""
    value = compact(text.strip())
    if not (value.isascii() and value.isdigit()) or len(value) != LENGTH:
        raise PaymentError(
            "kassenzeichen",
            _("Ein Kassenzeichen hat 13 Ziffern, z. B. 26 100 000042 64."),
            "kassenzeichen_format",
        )
    if not is_valid_kassenzeichen(value):
        raise PaymentError(
            "kassenzeichen",
            _(
                "Die Prüfziffer passt nicht zu diesem Kassenzeichen. Wahrscheinlich ist eine Ziffer vertippt oder "
                "sind zwei Ziffern vertauscht – bitte vergleichen Sie es mit der Vorlage."
            ),
            "kassenzeichen_check_digit",
        )
    return value


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BERLIN).astimezone(UTC)


def search_payments(actor: Actor, search: Search, limit: int = SEARCH_LIMIT) -> list[Payment]:
    """Payments matching every criterion given, newest first. The period matches a payment created or paid
    in it (Berlin days, both ends included). Raises PaymentError for a Kassenzeichen with a typo or a bad period."""
    require_viewer(actor)
    query = sa.select(Payment)
    if search.kassenzeichen:
        query = query.where(Payment.kassenzeichen == clean_kassenzeichen(search.kassenzeichen))
    if search.case_reference:
        reference = " ".join(search.case_reference.split()).upper()
        if len(reference) > 60 or "\x00" in reference:
            raise PaymentError("case_reference", _("Höchstens 60 Zeichen."), "too_long")
        query = query.where(sa.func.upper(Payment.case_reference) == reference)
    if search.status:
        if search.status not in {s.value for s in PaymentStatus}:
            raise PaymentError("status", _("Diesen Stand gibt es nicht."), "unknown_status")
        query = query.where(Payment.status == search.status)
    if search.date_from and search.date_to:
        if search.date_to < search.date_from:
            raise PaymentError("date_to", _("Das Ende des Zeitraums liegt vor seinem Beginn."), "period_reversed")
        if (search.date_to - search.date_from).days > MAX_PERIOD_DAYS:
            raise PaymentError("date_to", _("Wählen Sie einen Zeitraum von höchstens zwei Jahren."), "period_too_long")
    if search.date_from or search.date_to:
        start = _day_start(search.date_from) if search.date_from else None
        end = _day_start(search.date_to + timedelta(days=1)) if search.date_to else None
        conditions = []
        for column in (Payment.created_at, Payment.succeeded_at):
            parts: list[sa.ColumnElement[bool]] = [column.is_not(None)]
            if start is not None:
                parts.append(column >= start)
            if end is not None:
                parts.append(column < end)
            conditions.append(sa.and_(*parts))
        query = query.where(sa.or_(*conditions))
    return list(db.session.scalars(query.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit)))


@dataclass(frozen=True)
class PaymentDetail:
    payment: Payment
    attempts: list[PaymentAttempt]
    refunds: list[Refund]
    approvals: dict[int, ApprovalRequest]  # by refund id
    events: list[AuditEvent]  # about the payment, its attempts and its refunds, oldest first


def payment_detail(actor: Actor, public_id: str) -> PaymentDetail:
    require_viewer(actor)
    if not isinstance(public_id, str) or len(public_id) != 32 or not public_id.isalnum():
        raise PaymentNotFound()
    payment = db.session.scalar(sa.select(Payment).where(Payment.public_id == public_id))
    if payment is None:
        raise PaymentNotFound()
    attempts = list(payment.attempts)
    refunds = list(payment.refunds)
    request_ids = [r.approval_request_id for r in refunds if r.approval_request_id is not None]
    requests = (
        {a.id: a for a in db.session.scalars(sa.select(ApprovalRequest).where(ApprovalRequest.id.in_(request_ids)))}
        if request_ids
        else {}
    )
    targets: list[Any] = [sa.and_(AuditEvent.target_type == "payment", AuditEvent.target_id == str(payment.id))]
    if attempts:
        targets.append(
            sa.and_(
                AuditEvent.target_type == "payment_attempt", AuditEvent.target_id.in_([str(a.id) for a in attempts])
            )
        )
    if refunds:
        targets.append(
            sa.and_(AuditEvent.target_type == "payment_refund", AuditEvent.target_id.in_([str(r.id) for r in refunds]))
        )
    sequencer.catch_up()
    events = list(db.session.scalars(sa.select(AuditEvent).where(sa.or_(*targets)).order_by(AuditEvent.seq)))
    return PaymentDetail(
        payment=payment,
        attempts=attempts,
        refunds=refunds,
        approvals={r.id: requests[r.approval_request_id] for r in refunds if r.approval_request_id in requests},
        events=events,
    )
