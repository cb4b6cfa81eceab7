"""The appointments service's use cases, one module per area. The contract between them:

availability.py (slot engine on top of the pure appointments/slots.py):
    duration_for(location_id, items) -> int
        items: list[tuple[catalogue_service_id, quantity]]; total minutes; BookingError(field="services") when a
        service is unknown, not offered at the location, inactive, or over its max quantity.
    free_slots(location_id, items, first_day, last_day, *, now=None, include_held_back=False) -> list[FreeSlot]
        FreeSlot(start: aware UTC datetime, seats_left: int), sorted; constant number of SQL queries.
    check_bookable(location_id, items, start, *, now=None, include_held_back=False) -> int
        the duration in minutes; BookingError(field="start", code=past|notice|horizon|off_grid|closed|holiday|
        outside_hours) otherwise. It does not look at seats (booking.py claims them).
    claim_units(location_id, start, duration_minutes) -> list[datetime]
        the unit starts (UTC) a booking at `start` covers, including the location's buffer.
    nearest_free(location_id, items, around, *, limit=5) -> list[datetime]

booking.py (holding seats; the database refuses a second booking for a seat):
    hold_booking(actor, *, location_id, items, start, name, email, phone=None, language="de",
                 kind="online", user_id=None, captcha=None) -> HeldBooking(booking, manage_token)
        BookingError for bad input or rules (too_many_open ...), SlotTaken when the seat is gone.
    find_booking(reference, token) -> Booking            NotFound otherwise
    confirm_booking(reference, token) -> Booking
    cancel_booking(actor, booking, *, reason=None) -> Booking
    reschedule_booking(actor, booking, new_start) -> Booking
    release_expired(now=None) -> int                     reserved/offered bookings past their deadline
    (each audited, each mails the citizen with the right iCalendar file)

ics.py:
    booking_calendar(booking, method) -> bytes           method "REQUEST" or "CANCEL"
    feed_calendar(location_id, bookings, *, show_names) -> bytes

desk.py (the clerk's desk), closure_bookings.py (a day closed at the desk, a closure's bookings: both cancelled by
one implementation), config.py (what admins configure), waitlist.py, reminders.py, feeds.py.
"""
