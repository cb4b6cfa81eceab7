"""Fees of booked services: which catalogue service costs which fee, what a visit comes to, what the desk sees.

Where things live:
- the link "catalogue service → fee code, refund policy" is appointments' own table (ServiceFee), edited by
  the department admin of the service's department; the core's catalogue knows nothing of money;
- amounts, tariffs and budget lines belong to the payments service's fee catalogue: asked through
  `payments.services.fees.quote` (read-only), never read from its tables;
- what a booking costs and whether it is paid is BookingFee (see fee_payments.py for how it is written).

Everything here works without the payments service: when it is switched off (not in SERVICES) no fee is
quoted, no choice is offered, and appointments behave exactly as without fees. payments is imported only
inside the functions that run when it is on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden, NotFound

import appointments.actions_fees  # noqa: F401  (declares the audit actions)
from appointments.models import Booking, BookingFee, PaymentChoice, ServiceFee, Settlement
from portal.accounts.models import DepartmentRole, GlobalRole
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import CatalogueService
from portal.extensions import db
from portal.timeutil import as_utc, utcnow
from portal.transaction import transaction

log = logging.getLogger(__name__)

MAX_REFUND_HOURS = 8760


def payments_on() -> bool:
    """Whether the payments service is switched on; without it fees are ignored altogether."""
    return "payments" in current_app.config.get("SERVICES", ())


def euro(cents: int) -> str:
    """3700 -> "37,00 €" (German notation, like the bill the payments service shows)."""
    whole, rest = divmod(int(cents), 100)
    return f"{whole:,}".replace(",", ".") + f",{rest:02d} €"


# --- what a visit costs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeLine:
    service_id: int
    quantity: int
    fee_code: str
    amount_cents: int  # for all `quantity` units
    budget_line: str
    per_unit: bool  # a rate fee: the quantity went into the payments service's own calculation


@dataclass(frozen=True)
class Quote:
    """The fees of a visit: one line per service that has one, and the refund policy that applies."""

    lines: tuple[FeeLine, ...]
    refund_hours_before: int | None

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


def strictest(policies: Iterable[int | None]) -> int | None:
    """One policy for a visit of several services: the strictest (one "no refund" makes it none).

    A refund returns the whole payment of the booking (payments refunds a case as a whole), so the booking
    needs one deadline; the strictest never promises money back that one of its services would keep.
    """
    hours: list[int] = []
    for policy in policies:
        if policy is None:
            return None
        hours.append(policy)
    return max(hours) if hours else None


def quote_items(items: Sequence[tuple[int, int]]) -> Quote | None:
    """What the visit `items` ((catalogue service id, quantity), ...) costs today; None when nothing (or
    payments is off). A link to a fee code the fee catalogue does not know (any more) counts as no fee and is
    logged: the booking must not fail because the treasury retired a code."""
    if not payments_on() or not items:
        return None
    links = _links({service_id for service_id, _quantity in items})
    if not links:
        return None
    from payments.errors import PaymentError
    from payments.services import fees as fee_catalogue

    lines = []
    policies = []
    for service_id, quantity in items:
        link = links.get(service_id)
        if link is None:
            continue
        try:
            found = fee_catalogue.quote(link.fee_code, quantity)
        except PaymentError:
            log.warning("fee code %s of catalogue service %s is not in the fee catalogue", link.fee_code, service_id)
            continue
        amount = found.amount_cents if found.per_unit else found.amount_cents * quantity
        lines.append(FeeLine(service_id, quantity, found.code, amount, found.budget_line, found.per_unit))
        policies.append(link.refund_hours_before)
    if not lines:
        return None
    return Quote(tuple(lines), strictest(policies))


def _links(service_ids: Iterable[int]) -> dict[int, ServiceFee]:
    ids = sorted(set(service_ids))
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(ServiceFee).where(ServiceFee.catalogue_service_id.in_(ids)))
    return {row.catalogue_service_id: row for row in rows}


def booking_fee(booking: Booking) -> BookingFee | None:
    """The booking's fee row (None: no fee, or payments off)."""
    if not payments_on():
        return None
    return db.session.get(BookingFee, booking.id)


def refund_due(fee: BookingFee, starts_at: datetime, now: datetime | None = None) -> bool:
    """Whether cancelling now refunds the fee under the policy the booking was made with."""
    if fee.refund_hours_before is None:
        return False
    now = as_utc(now) if now else utcnow()
    return now <= as_utc(starts_at) - timedelta(hours=fee.refund_hours_before)


def policy_text(hours: int | None) -> str:
    """The refund policy in words, for the check page and the cancellation page."""
    if hours is None:
        return str(_l("Bei einer Absage wird die Gebühr nicht erstattet."))
    if hours == 0:
        return str(_l("Sagen Sie vor Beginn des Termins ab, erstatten wir die Gebühr vollständig."))
    return str(
        _l(
            "Sagen Sie spätestens %(hours)s Stunden vor dem Termin ab, erstatten wir die Gebühr vollständig; "
            "danach nicht mehr.",
            hours=hours,
        )
    )


# --- what the cancellation page says before the person confirms -------------------------------------------


@dataclass(frozen=True)
class CancelPreview:
    outcome: Settlement
    amount_cents: int
    policy: str


def cancel_preview(booking: Booking, now: datetime | None = None) -> CancelPreview | None:
    """What cancelling now would do about the money; None when there is nothing to say (no fee, paid at the
    desk, payments off). The cancellation itself decides again under lock (fee_payments.settle_cancellations)."""
    fee = booking_fee(booking)
    if fee is None or fee.method != PaymentChoice.ONLINE:
        return None
    policy = policy_text(fee.refund_hours_before)
    if fee.paid_at is None:
        return CancelPreview(Settlement.ORDER_CANCELLED, fee.amount_cents, policy)
    if refund_due(fee, booking.starts_at, now):
        return CancelPreview(Settlement.REFUND_REQUESTED, fee.amount_cents, policy)
    return CancelPreview(Settlement.NO_REFUND, fee.amount_cents, policy)


# --- what the desk sees -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskFee:
    state: str  # none, paid, open_online, open_counter, closed (cancelled or over: nothing to collect)
    amount_cents: int = 0
    kassenzeichen: str | None = None
    settlement: str | None = None


NO_FEE = DeskFee("none")


def desk_fees(bookings: Sequence[Booking]) -> dict[int, DeskFee]:
    """Per booking id: paid online (with its Kassenzeichen), open (online or at the desk), or no fee.

    Bookings without a fee row (walk-ins, waitlist offers, booked before the fee was set) owe what their
    services cost today, payable at the desk, while they are active. Empty when payments is off.
    """
    if not payments_on() or not bookings:
        return {}
    ids = [b.id for b in bookings]
    query = sa.select(BookingFee).where(BookingFee.booking_id.in_(ids))
    rows = {row.booking_id: row for row in db.session.scalars(query)}
    quotes: dict[tuple[tuple[int, int], ...], Quote | None] = {}
    found: dict[int, DeskFee] = {}
    for booking in bookings:
        row = rows.get(booking.id)
        if row is not None and row.paid_at is not None:
            found[booking.id] = DeskFee("paid", row.amount_cents, row.kassenzeichen, row.settlement)
        elif not booking.is_active:
            found[booking.id] = DeskFee("closed", settlement=row.settlement if row is not None else None)
        elif row is not None:
            state = "open_online" if row.method == PaymentChoice.ONLINE else "open_counter"
            found[booking.id] = DeskFee(state, row.amount_cents, row.kassenzeichen)
        if booking.id in found:
            continue
        items = tuple((item.catalogue_service_id, item.quantity) for item in booking.items)
        if items not in quotes:
            quotes[items] = quote_items(items)
        quote = quotes[items]
        found[booking.id] = DeskFee("open_counter", quote.total_cents) if quote else NO_FEE
    return found


# --- configuration by the department admin -----------------------------------------------------------------


def can_configure(actor: Actor, entry: CatalogueService) -> bool:
    return actor.has_role(GlobalRole.PLATFORM_ADMIN.value) or actor.has_role(
        DepartmentRole.DEPARTMENT_ADMIN.value, entry.department_id
    )


@dataclass(frozen=True)
class FeeRow:
    entry: CatalogueService
    link: ServiceFee | None
    amount_cents: int | None  # today's amount for one unit; None: no fee, unknown code, or a rate
    known: bool  # the code is in the fee catalogue (and active)


def _require_payments() -> None:
    if not payments_on():
        raise NotFound()


def fee_rows(actor: Actor) -> list[FeeRow]:
    """The catalogue services the actor may set fees for, with their fee today."""
    _require_payments()
    query = sa.select(CatalogueService).where(CatalogueService.active.is_(True)).order_by(CatalogueService.name)
    if not actor.has_role(GlobalRole.PLATFORM_ADMIN.value):
        user = actor.user
        admin = DepartmentRole.DEPARTMENT_ADMIN
        ids = {m.department_id for m in user.memberships if m.role == admin} if user else set()
        if not ids:
            return []
        query = query.where(CatalogueService.department_id.in_(ids))
    entries = list(db.session.scalars(query))
    links = _links(entry.id for entry in entries)
    return [_row(entry, links.get(entry.id)) for entry in entries]


def _row(entry: CatalogueService, link: ServiceFee | None) -> FeeRow:
    if link is None:
        return FeeRow(entry, None, None, True)
    from payments.errors import PaymentError
    from payments.services import fees as fee_catalogue

    try:
        found = fee_catalogue.quote(link.fee_code, 1)
    except PaymentError:
        return FeeRow(entry, link, None, False)
    return FeeRow(entry, link, found.amount_cents, True)


def fee_row(actor: Actor, service_id: int) -> FeeRow:
    _require_payments()
    entry = db.session.get(CatalogueService, service_id)
    if entry is None:
        raise NotFound()
    if not can_configure(actor, entry):
        raise Forbidden()
    return _row(entry, db.session.get(ServiceFee, entry.id))


def fee_choices() -> list[tuple[str, str]]:
    """(code, "CODE – name (37,00 €)") of the fee catalogue's active fees with a tariff valid today."""
    _require_payments()
    from payments.errors import PaymentError
    from payments.services import fees as fee_catalogue

    choices = []
    for fee in fee_catalogue.list_fees():
        if not fee.active:
            continue
        try:
            found = fee_catalogue.quote(fee.code, 1)
        except PaymentError:
            continue  # no tariff valid today
        amount = euro(found.amount_cents) + (str(_l(" je Einheit")) if found.per_unit else "")
        choices.append((fee.code, f"{fee.code} – {fee.name} ({amount})"))
    return choices


class FeeConfigError(Exception):
    def __init__(self, message: Any, field: str) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


def save_fee(actor: Actor, service_id: int, fee_code: str | None, refund_hours_before: int | None) -> ServiceFee | None:
    """Set (or, with no code, remove) the fee of a catalogue service. Bookings already made keep theirs."""
    row = fee_row(actor, service_id)
    code = (fee_code or "").strip().upper()
    if refund_hours_before is not None and not 0 <= refund_hours_before <= MAX_REFUND_HOURS:
        raise FeeConfigError(_l("Zwischen 0 und 8760 Stunden."), "refund_hours")
    if code:
        from payments.errors import PaymentError
        from payments.services import fees as fee_catalogue

        try:
            fee_catalogue.quote(code, 1)
        except PaymentError:
            raise FeeConfigError(
                _l("Diese Gebühr gibt es im Gebührenkatalog der Stadtkasse nicht (oder sie gilt heute nicht)."),
                "fee_code",
            ) from None
    with transaction():
        link = db.session.get(ServiceFee, row.entry.id)
        if not code:
            if link is not None:
                db.session.delete(link)
                audit.record("appointment.fee_removed", actor, target=row.entry, service_id=row.entry.id)
            return None
        if link is None:
            link = ServiceFee(catalogue_service_id=row.entry.id)
            db.session.add(link)
        link.fee_code = code
        link.refund_hours_before = refund_hours_before
        link.updated_at = utcnow()
        audit.record(
            "appointment.fee_saved",
            actor,
            target=row.entry,
            service_id=row.entry.id,
            fee_code=code,
            refund_hours_before=refund_hours_before,
        )
    return link
