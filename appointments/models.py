"""Appointments: what a location offers, when it is open, and who booked which seat.

The rule "never two bookings for one seat" lives in the database: every booking claims its seat for each
time unit it covers (SeatClaim), and (location, unit, seat) is unique. Concurrent attempts on the last seat
race on that key; exactly one insert wins, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow


class BookingStatus(enum.StrEnum):
    RESERVED = "reserved"  # held, waiting for the citizen's confirmation by mail
    CONFIRMED = "confirmed"
    OFFERED = "offered"  # held for the next person on a waitlist until they accept
    CANCELLED = "cancelled"
    RELEASED = "released"  # not confirmed in time, or a waitlist offer not taken
    CHECKED_IN = "checked_in"
    CALLED = "called"
    SERVED = "served"
    NO_SHOW = "no_show"


# Statuses in which a booking holds its seats.
ACTIVE_STATUSES = (
    BookingStatus.RESERVED,
    BookingStatus.CONFIRMED,
    BookingStatus.OFFERED,
    BookingStatus.CHECKED_IN,
    BookingStatus.CALLED,
)


class BookingKind(enum.StrEnum):
    ONLINE = "online"
    INTERNAL = "internal"  # booked by staff, e.g. for a caller on the phone; may use held-back seats
    WALK_IN = "walk_in"


class LocationSettings(Model):
    """How a location takes appointments. One row per location that offers any."""

    __tablename__ = "appointment_location"

    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"), primary_key=True)
    active: Mapped[bool] = mapped_column(default=True)
    counters: Mapped[int] = mapped_column(default=1)  # parallel capacity
    slot_minutes: Mapped[int] = mapped_column(default=10)  # the grid start times lie on
    horizon_days: Mapped[int] = mapped_column(default=60)
    min_notice_minutes: Mapped[int] = mapped_column(default=120)
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    held_back_seats: Mapped[int] = mapped_column(default=0)  # per slot, for phone/internal booking
    confirm_within_minutes: Mapped[int | None] = mapped_column()  # None: no confirmation needed
    max_open_per_email: Mapped[int] = mapped_column(default=2)
    cancel_cooldown_minutes: Mapped[int] = mapped_column(default=0)
    captcha_required: Mapped[bool] = mapped_column(default=False)
    reminder_hours: Mapped[int] = mapped_column(default=24)
    waitlist_offer_minutes: Mapped[int] = mapped_column(default=120)
    search_rate_limit: Mapped[str] = mapped_column(sa.String(40), default="120/minute")
    booking_rate_limit: Mapped[str] = mapped_column(sa.String(40), default="10/hour")
    # Raised in the same transaction by every change that can alter the location's free times (seat claims,
    # these settings, opening hours, closures, offered services): slot searches cache their answer per
    # worker keyed on it. Maintained by appointments.services.availability_version, never set by hand.
    availability_version: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        sa.CheckConstraint("counters >= 1 and counters <= 200", name="counters"),
        sa.CheckConstraint("slot_minutes in (5, 10, 15, 20, 30, 60)", name="slot_minutes"),
        sa.CheckConstraint("held_back_seats >= 0 and held_back_seats < counters", name="held_back"),
        sa.CheckConstraint("horizon_days between 1 and 730", name="horizon"),
        sa.CheckConstraint("min_notice_minutes >= 0 and buffer_minutes >= 0", name="non_negative"),
    )


class OfferedService(Model):
    """A catalogue service offered at a location, with its duration there."""

    __tablename__ = "appointment_offered_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"), index=True)
    catalogue_service_id: Mapped[int] = mapped_column(sa.ForeignKey("catalogue_service.id"), index=True)
    duration_minutes: Mapped[int] = mapped_column()
    max_quantity: Mapped[int] = mapped_column(default=5)
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        sa.UniqueConstraint("location_id", "catalogue_service_id", name="uq_appointment_offered_service_pair"),
        sa.CheckConstraint("duration_minutes between 5 and 480", name="duration"),
        sa.CheckConstraint("max_quantity between 1 and 20", name="max_quantity"),
    )


class OpeningPeriod(Model):
    """One opening interval on a weekday; two rows on one day make a break between them."""

    __tablename__ = "appointment_opening_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"), index=True)
    weekday: Mapped[int] = mapped_column()  # 0 = Monday
    opens: Mapped[time] = mapped_column(sa.Time)  # local time, Europe/Berlin
    closes: Mapped[time] = mapped_column(sa.Time)
    valid_from: Mapped[date | None] = mapped_column(sa.Date)
    valid_until: Mapped[date | None] = mapped_column(sa.Date)

    __table_args__ = (
        sa.CheckConstraint("weekday between 0 and 6", name="weekday"),
        sa.CheckConstraint("opens < closes", name="interval"),
    )


class Closure(Model):
    """Days a location is closed beyond public holidays (which are closed automatically)."""

    __tablename__ = "appointment_closure"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"), index=True)
    first_day: Mapped[date] = mapped_column(sa.Date)
    last_day: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")

    __table_args__ = (sa.CheckConstraint("first_day <= last_day", name="range"),)


class Booking(Model):
    __tablename__ = "appointment_booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(sa.String(20), unique=True)  # T-2026-000123
    uid: Mapped[str] = mapped_column(sa.String(100), unique=True)  # iCalendar UID, stable for life
    manage_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default=BookingKind.ONLINE)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    language: Mapped[str] = mapped_column(sa.String(5), default="de")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    # Booked while acting for a business ("Handeln für ..."): the booking belongs to it, its members see it.
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    # Booked for a case of another service ("permit:<public id>"): see services/case_links.py.
    case_key: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirm_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(200))
    sequence: Mapped[int] = mapped_column(default=0)  # iCalendar SEQUENCE, raised on every change
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attendance_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # "I'm coming"
    # The clerk's desk.
    queue_day: Mapped[date | None] = mapped_column(sa.Date)
    queue_number: Mapped[int | None] = mapped_column()
    counter: Mapped[str | None] = mapped_column(sa.String(40))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    served_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    no_show_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    items: Mapped[list[BookingItem]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingItem.id"
    )

    __table_args__ = (
        sa.CheckConstraint(
            "status in ('reserved', 'confirmed', 'offered', 'cancelled', 'released', 'checked_in', 'called',"
            " 'served', 'no_show')",
            name="status",
        ),
        sa.CheckConstraint("kind in ('online', 'internal', 'walk_in')", name="kind"),
        sa.CheckConstraint("starts_at < ends_at", name="interval"),
        sa.UniqueConstraint("location_id", "queue_day", "queue_number", name="uq_appointment_booking_queue"),
        sa.Index("ix_appointment_booking_location_start", "location_id", "starts_at"),
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class BookingItem(Model):
    __tablename__ = "appointment_booking_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("appointment_booking.id"), index=True)
    catalogue_service_id: Mapped[int] = mapped_column(sa.ForeignKey("catalogue_service.id"))
    quantity: Mapped[int] = mapped_column(default=1)
    duration_minutes: Mapped[int] = mapped_column()  # per unit, as offered when booked
    booking: Mapped[Booking] = relationship(back_populates="items")

    __table_args__ = (sa.CheckConstraint("quantity between 1 and 20", name="quantity"),)


class SeatClaim(Model):
    """One seat of one time unit at a location, held by a booking, or held back after a cancellation.

    `hold_until` set and `booking_id` null: a cancelled seat in its cool-down; it is free again afterwards.
    `expires_at` set: the booking is only reserved (or offered) until then; afterwards the seat is free.
    """

    __tablename__ = "appointment_seat_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"))
    unit_start: Mapped[datetime] = mapped_column(UTCDateTime())
    seat: Mapped[int] = mapped_column()
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appointment_booking.id"), index=True)
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("location_id", "unit_start", "seat", name="uq_appointment_seat_claim_seat"),
        sa.CheckConstraint("seat >= 0", name="seat"),
    )


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    EXPIRED = "expired"  # its date range passed
    CANCELLED = "cancelled"


class WaitlistEntry(Model):
    """A person waiting for a slot: served in order of joining, one offer at a time."""

    __tablename__ = "appointment_waitlist_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=WaitlistStatus.WAITING, index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    language: Mapped[str] = mapped_column(sa.String(5), default="de")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    services: Mapped[str] = mapped_column(sa.Text)  # JSON: [{"id": 3, "quantity": 1}]
    location_ids: Mapped[str] = mapped_column(sa.String(200))  # "1,2"
    first_day: Mapped[date] = mapped_column(sa.Date)
    last_day: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    offered_booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appointment_booking.id"))
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offers_made: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.CheckConstraint("status in ('waiting', 'offered', 'booked', 'expired', 'cancelled')", name="status"),
        sa.CheckConstraint("first_day <= last_day", name="range"),
    )


class CalendarFeed(Model):
    """A clerk's subscription to their location's appointments; the secret token sits in the URL."""

    __tablename__ = "appointment_calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"))
    show_names: Mapped[bool] = mapped_column(default=False)  # citizens' names only when the clerk opts in
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DisplayToken(Model):
    """A waiting-room screen's key: it shows that one location's call display and nothing else. The secret sits
    in the screen's address (only its SHA-256 is stored); a department admin revokes it."""

    __tablename__ = "appointment_display_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"), index=True)
    label: Mapped[str] = mapped_column(sa.String(100))  # e.g. "Bildschirm Wartebereich Erdgeschoss"
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PaymentChoice(enum.StrEnum):
    ONLINE = "online"  # a payment order of the payments service, paid on its pages
    COUNTER = "counter"  # paid at the desk on the day; no payment order


class Settlement(enum.StrEnum):
    """What the cancellation of a booking with a fee did about the money."""

    REFUND_REQUESTED = "refund_requested"  # paid: a refund asked for, waiting for the treasury's four eyes
    NO_REFUND = "no_refund"  # paid, cancelled after the service's refund period
    ORDER_CANCELLED = "order_cancelled"  # not paid yet: the payment order was cancelled


class ServiceFee(Model):
    """The fee a catalogue service costs when booked, and when a cancelled booking gets it back.

    The amount is not here: `fee_code` names a fee of the payments service's catalogue, which keeps the
    tariffs (versioned, with their budget line); appointments asks payments.services.fees for the amount. This
    table is appointments' own, not the core's catalogue: the core knows nothing of payments. Without the
    payments service (switched off in SERVICES) its rows are ignored.

    `refund_hours_before`: None, cancelling never refunds; N, a booking cancelled at least N hours before it
    starts is refunded in full, later not at all (0: until the appointment starts).
    """

    __tablename__ = "appointment_service_fee"

    catalogue_service_id: Mapped[int] = mapped_column(sa.ForeignKey("catalogue_service.id"), primary_key=True)
    fee_code: Mapped[str] = mapped_column(sa.String(40))
    refund_hours_before: Mapped[int | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "refund_hours_before is null or refund_hours_before between 0 and 8760", name="refund_hours_before"
        ),
    )


class BookingFee(Model):
    """What a booking costs and how it is paid: appointments' side of the booking's payment order.

    Written when the booking is made (amount, the person's choice, the refund policy as it was then). For an
    online choice it names the payment order by the payments service's public id and Kassenzeichen (strings,
    not a foreign key: another service's table). `paid_at` is set only by the payments service's success
    callback, in the transaction that marks the payment succeeded, so it never disagrees with the payment.
    A row of its own rather than columns of the booking: the callback then never waits for the booking's row,
    which booking transactions lock before they take the audit chain's lock that the callback already holds.
    """

    __tablename__ = "appointment_booking_fee"

    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("appointment_booking.id"), primary_key=True)
    amount_cents: Mapped[int] = mapped_column()
    method: Mapped[str] = mapped_column(sa.String(8))
    refund_hours_before: Mapped[int | None] = mapped_column()
    payment_public_id: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    kassenzeichen: Mapped[str | None] = mapped_column(sa.String(20))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settlement: Mapped[str | None] = mapped_column(sa.String(20))
    refund_cents: Mapped[int | None] = mapped_column()

    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("method in ('online', 'counter')", name="method"),
        sa.CheckConstraint("method = 'counter' or payment_public_id is not null", name="online_has_order"),
        sa.CheckConstraint(
            "settlement is null or settlement in ('refund_requested', 'no_refund', 'order_cancelled')",
            name="settlement",
        ),
    )
