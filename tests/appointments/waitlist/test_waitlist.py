"""The waitlist at service level: joining, offers in order of joining, accepting, lapsing, ending."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from appointments.errors import BookingError, NotFound
from appointments.models import WaitlistEntry
from appointments.services import waitlist, waitlist_offers
from appointments.services.booking import cancel_booking, release_expired
from portal.actors import ANONYMOUS
from portal.extensions import db
from portal.timeutil import utcnow
from tests.appointments.booking.builders import at, audit_actions, book, count, mails_to, make_office, workday
from tests.appointments.builders import make_bookable_location, offer
from tests.appointments.waitlist.builders import booking, entry, join, offer_link


def _actions() -> list[str]:
    return [e.action for e in audit_actions() if "waitlist" in e.action]


def test_joining_mails_a_manage_link_and_is_audited(app):
    office = make_office()
    day = workday()

    joined = join(office, "wanda@example.org", day)

    assert joined.entry.status == "waiting"
    (mail,) = mails_to("wanda@example.org")
    assert f"/termine/warteliste/{joined.entry.id}/{joined.token}" in mail.body_text
    assert waitlist.find_entry(joined.entry.id, joined.token).id == joined.entry.id
    with pytest.raises(NotFound):
        waitlist.find_entry(joined.entry.id, "x" * 43)
    assert _actions() == ["appointment.waitlist_joined"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": []}, "services"),
        ({"location_ids": []}, "locations"),
        ({"first_day": None}, "first_day"),
        ({"first_offset": -1}, "first_day"),
        ({"last_offset": -2}, "last_day"),
        ({"last_offset": 400}, "last_day"),
        ({"email": "not-an-address"}, "email"),
        ({"name": "  "}, "name"),
        ({"unoffered": True}, "locations"),
    ],
)
def test_joining_with_bad_input_names_the_field_and_stores_nothing(app, change, field):
    office = make_office()
    other = make_bookable_location(department=office.location.department, name="Bürgerbüro Süd")
    day = workday()
    kwargs = {
        "items": [(office.service.id, 1)],
        "location_ids": [office.location.id],
        "first_day": day,
        "last_day": day + timedelta(days=3),
        "name": "Wanda",
        "email": "wanda@example.org",
    }
    if "first_offset" in change:
        kwargs["first_day"] = utcnow().date() - timedelta(days=2)
    elif "last_offset" in change:
        kwargs["last_day"] = day + timedelta(days=change["last_offset"])
    elif "unoffered" in change:
        kwargs["location_ids"] = [office.location.id, other.id]
    else:
        kwargs.update(change)

    with pytest.raises(BookingError) as refused:
        waitlist.join_waitlist(ANONYMOUS, **kwargs)

    assert refused.value.field == field
    assert count(WaitlistEntry) == 0
    assert mails_to("wanda@example.org") == []


def test_one_address_may_wait_only_a_few_times_at_once(app):
    office = make_office()
    for _ in range(waitlist.MAX_ACTIVE_PER_EMAIL):
        join(office, "wanda@example.org", workday())
    with pytest.raises(BookingError) as refused:
        join(office, "wanda@example.org", workday())
    assert refused.value.field == "email"


def test_a_cancellation_offers_the_seat_to_the_first_matching_entry_not_the_second(app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9, 0), email="erika@example.org")
    elsewhere = make_bookable_location(department=office.location.department, name="Bürgerbüro Nord")
    offer(elsewhere, office.service)
    other_place = join(office, "nord@example.org", day, location_ids=[elsewhere.id])  # joined first, other place
    later_days = join(office, "later@example.org", day + timedelta(days=1))  # joined first, other days
    first = join(office, "first@example.org", day)
    second = join(office, "second@example.org", day)

    cancel_booking(ANONYMOUS, held.booking)

    assert entry(first.entry.id).status == "offered"
    assert entry(second.entry.id).status == "waiting"
    assert entry(other_place.entry.id).status == "waiting"
    assert entry(later_days.entry.id).status == "waiting"
    reference, token = offer_link("first@example.org")
    offered = booking(reference)
    assert offered.status == "offered" and offered.email == "first@example.org"
    assert offered.starts_at == at(day, 9, 0)
    assert entry(first.entry.id).offer_expires_at == offered.confirm_by
    assert offered.confirm_by <= utcnow() + timedelta(minutes=121)
    assert waitlist.find_offer(reference, token).open
    assert [m for m in mails_to("second@example.org") if "angebot" in m.body_text] == []
    assert "appointment.waitlist_offered" in _actions()


def test_accepting_the_offer_confirms_the_booking_and_books_the_entry(app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9, 0))
    first = join(office, "first@example.org", day)
    cancel_booking(ANONYMOUS, held.booking)
    reference, token = offer_link("first@example.org")

    accepted = waitlist.accept_offer(reference, token)

    assert accepted.status == "confirmed" and accepted.confirmed_at is not None
    assert entry(first.entry.id).status == "booked"
    confirmation = mails_to("first@example.org")[-1]
    assert f"/termine/verwalten/{reference}/{token}" in confirmation.body_text
    assert confirmation.attachments[0].content_type == "text/calendar; method=REQUEST"
    assert waitlist.accept_offer(reference, token).sequence == accepted.sequence  # twice is harmless
    actions = [e.action for e in audit_actions(reference)]
    assert "appointment.waitlist_accepted" in actions and "appointment.confirmed" in actions


def test_an_offer_past_its_deadline_goes_to_the_next_person(app):
    office = make_office(counters=1, waitlist_offer_minutes=30)
    day = workday()
    held = book(office, at(day, 9, 0))
    first = join(office, "first@example.org", day)
    second = join(office, "second@example.org", day)
    cancel_booking(ANONYMOUS, held.booking)
    reference, token = offer_link("first@example.org")

    release_expired(now=utcnow() + timedelta(minutes=31))

    assert booking(reference).status == "released"
    lapsed = entry(first.entry.id)
    assert lapsed.status == "waiting" and lapsed.offers_made == 1 and lapsed.offered_booking_id is None
    assert entry(second.entry.id).status == "offered"
    next_reference, _token = offer_link("second@example.org")
    assert booking(next_reference).starts_at == at(day, 9, 0)
    with pytest.raises(BookingError):
        waitlist.accept_offer(reference, token)
    assert "appointment.waitlist_offer_lapsed" in _actions()


def test_three_unanswered_offers_end_the_entry_with_a_mail(app):
    office = make_office(counters=1, waitlist_offer_minutes=30)
    day = workday()
    first = join(office, "first@example.org", day)

    for round_ in range(1, 4):
        summary = waitlist_offers.run()
        assert len(summary.offered) == 1, round_
        release_expired(now=utcnow() + timedelta(minutes=31))

    ended = entry(first.entry.id)
    assert ended.status == "cancelled" and ended.offers_made == 3
    assert "dreimal" in mails_to("first@example.org")[-1].body_text
    assert _actions().count("appointment.waitlist_offered") == 3
    assert _actions()[-1] == "appointment.waitlist_expired"
    assert waitlist_offers.run().offered == []


def test_declining_ends_the_entry_and_offers_the_seat_to_the_next(app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9, 0))
    first = join(office, "first@example.org", day)
    second = join(office, "second@example.org", day)
    cancel_booking(ANONYMOUS, held.booking)
    reference, token = offer_link("first@example.org")

    waitlist.decline_offer(reference, token)

    assert entry(first.entry.id).status == "cancelled"
    assert booking(reference).status == "cancelled"
    assert entry(second.entry.id).status == "offered"


def test_declining_but_staying_keeps_the_place_without_the_same_seat_coming_back(app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9, 0))
    first = join(office, "first@example.org", day)
    cancel_booking(ANONYMOUS, held.booking)
    reference, token = offer_link("first@example.org")

    waitlist.decline_offer(reference, token, keep=True)

    kept = entry(first.entry.id)
    assert kept.status == "waiting" and kept.offered_booking_id is None
    assert len([m for m in mails_to("first@example.org") if "/termine/angebot/" in m.body_text]) == 1
    declined = [e for e in audit_actions(reference) if e.action == "appointment.waitlist_declined"]
    assert declined and json.loads(declined[0].details)["keep"] is True


def test_leaving_the_list_passes_an_open_offer_on(app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9, 0))
    first = join(office, "first@example.org", day)
    second = join(office, "second@example.org", day)
    cancel_booking(ANONYMOUS, held.booking)

    waitlist.leave_waitlist(first.entry.id, first.token)

    assert entry(first.entry.id).status == "cancelled"
    assert entry(second.entry.id).status == "offered"
    assert "appointment.waitlist_left" in _actions()


def test_entries_whose_range_passed_expire(app):
    office = make_office()
    day = workday()
    gone = join(office, "gone@example.org", day, day)
    current = join(office, "current@example.org", day, day + timedelta(days=30))

    expired = waitlist_offers.expire_past(now=utcnow() + timedelta(days=(day - utcnow().date()).days + 2))

    assert expired == 1
    assert entry(gone.entry.id).status == "expired"
    assert entry(current.entry.id).status == "waiting"
    assert "Zeitraum" in mails_to("gone@example.org")[-1].body_text
    events = [e for e in audit_actions() if e.action == "appointment.waitlist_expired"]
    assert [json.loads(e.details)["reason"] for e in events] == ["range_passed"]


def test_the_job_offers_free_slots_when_capacity_is_added(app):
    office = make_office(counters=1)
    day = workday()
    first = join(office, "first@example.org", day, day)
    second = join(office, "second@example.org", day, day)

    summary = waitlist_offers.run()

    assert [b.email for b in summary.offered] == ["first@example.org", "second@example.org"]
    assert entry(first.entry.id).status == entry(second.entry.id).status == "offered"
    starts = sorted(booking(b.reference).starts_at for b in summary.offered)
    assert starts[0] != starts[1]  # one counter: two different times


def test_a_seat_in_cancellation_cool_down_goes_to_the_waitlist(app):
    office = make_office(counters=1, cancel_cooldown_minutes=60)
    day = workday()
    held = book(office, at(day, 9, 0))
    first = join(office, "first@example.org", day)

    cancel_booking(ANONYMOUS, held.booking)

    assert entry(first.entry.id).status == "offered"
    reference, _token = offer_link("first@example.org")
    assert booking(reference).starts_at == at(day, 9, 0)


def test_a_freed_seat_with_nobody_waiting_changes_nothing(app):
    office = make_office(counters=1)
    held = book(office, at(workday(), 9, 0))
    cancel_booking(ANONYMOUS, held.booking)
    assert db.session.execute(sa.select(sa.func.count()).select_from(WaitlistEntry)).scalar_one() == 0
    assert _actions() == []


def test_an_offer_confirmed_through_the_booking_link_books_the_entry(app):
    from appointments.services.booking import confirm_booking

    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9, 0))
    first = join(office, "first@example.org", day)
    cancel_booking(ANONYMOUS, held.booking)
    reference, token = offer_link("first@example.org")

    confirm_booking(reference, token)
    waitlist_offers.settle_lapsed()

    assert entry(first.entry.id).status == "booked"
