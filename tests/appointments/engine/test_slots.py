"""The pure slot engine: opening hours, breaks, holidays, closures, buffers, notice, horizon, seats, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from appointments import slots
from appointments.slots import Claim, ClosedDays, Period, Rules
from portal.timeutil import BERLIN

WEEKDAYS = range(5)
MORNING = (time(8), time(12))
AFTERNOON = (time(13), time(16))
# A Monday long before the days under test, so notice and horizon do not get in the way.
NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def office(hours=(MORNING, AFTERNOON), weekdays=WEEKDAYS, **kwargs) -> list[Period]:
    return [Period(day, opens, closes, **kwargs) for day in weekdays for opens, closes in hours]


def berlin(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


def local_times(found: list[slots.FreeSlot]) -> list[str]:
    return [slot.start.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") for slot in found]


def search(
    day: date,
    *,
    rules: Rules | None = None,
    periods: list[Period] | None = None,
    closures: list[ClosedDays] = (),  # type: ignore[assignment]
    claims: list[Claim] = (),  # type: ignore[assignment]
    duration: int = 10,
    now: datetime = NOW,
    last_day: date | None = None,
    include_held_back: bool = False,
) -> list[slots.FreeSlot]:
    return slots.free_slots(
        rules or Rules(slot_minutes=10, counters=2, horizon_days=60),
        office() if periods is None else periods,
        closures,
        claims,
        duration,
        day,
        last_day or day,
        now,
        include_held_back=include_held_back,
    )


TUESDAY = date(2026, 11, 10)


def test_a_day_offers_every_grid_start_of_both_intervals_with_all_seats():
    found = search(TUESDAY)
    times = local_times(found)
    assert times[0] == "2026-11-10 08:00"
    assert times[-1] == "2026-11-10 15:50"
    assert len(times) == 24 + 18
    assert {slot.seats_left for slot in found} == {2}


def test_starts_are_aware_utc_instants():
    found = search(TUESDAY)
    assert found[0].start == datetime(2026, 11, 10, 7, 0, tzinfo=UTC)
    assert found[0].start.utcoffset() == timedelta(0)


def test_no_booking_spans_the_lunch_break():
    times = local_times(search(TUESDAY, duration=30))
    assert "2026-11-10 11:30" in times
    assert "2026-11-10 11:40" not in times
    assert "2026-11-10 12:50" not in times
    assert "2026-11-10 13:00" in times
    assert times[-1] == "2026-11-10 15:30"


def test_buffer_after_the_appointment_must_fit_before_closing_too():
    rules = Rules(slot_minutes=10, counters=1, buffer_minutes=10)
    times = local_times(search(TUESDAY, rules=rules, duration=20))
    assert times[-1] == "2026-11-10 15:30"  # 15:30 + 20 + 10 = 16:00
    assert "2026-11-10 11:40" not in times


def test_grid_is_counted_from_each_intervals_opening_time():
    periods = office(hours=((time(8), time(9)), (time(9, 5), time(10))))
    times = local_times(search(TUESDAY, periods=periods, rules=Rules(slot_minutes=15, counters=1), duration=15))
    assert times == [
        "2026-11-10 08:00",
        "2026-11-10 08:15",
        "2026-11-10 08:30",
        "2026-11-10 08:45",
        "2026-11-10 09:05",
        "2026-11-10 09:20",
        "2026-11-10 09:35",
    ]


def test_weekend_is_closed_when_no_hours_are_set():
    assert search(date(2026, 11, 14), last_day=date(2026, 11, 15)) == []


@pytest.mark.parametrize(
    "holiday",
    [date(2026, 11, 18), date(2026, 10, 31), date(2026, 12, 26), date(2027, 3, 29)],
    ids=["buss-und-bettag", "reformationstag", "second-christmas-day", "easter-monday"],
)
def test_saxon_public_holidays_are_closed(holiday):
    every_day = office(weekdays=range(7))
    rules = Rules(counters=1, horizon_days=730)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert search(holiday, periods=every_day, rules=rules, now=now) == []
    assert search(holiday + timedelta(days=1), periods=every_day, rules=rules, now=now) != []


def test_closure_closes_each_day_of_its_range_inclusive():
    closures = [ClosedDays(date(2026, 11, 10), date(2026, 11, 11))]
    found = search(date(2026, 11, 9), last_day=date(2026, 11, 12), closures=closures)
    days = {slot.start.astimezone(BERLIN).date() for slot in found}
    assert days == {date(2026, 11, 9), date(2026, 11, 12)}


def test_opening_periods_apply_only_within_their_validity():
    periods = [
        Period(1, time(8), time(9), valid_until=date(2026, 11, 10)),
        Period(1, time(14), time(15), valid_from=date(2026, 11, 17)),
    ]
    rules = Rules(slot_minutes=30, counters=1)
    assert local_times(search(TUESDAY, periods=periods, rules=rules)) == ["2026-11-10 08:00", "2026-11-10 08:30"]
    assert local_times(search(date(2026, 11, 24), periods=periods, rules=rules)) == [
        "2026-11-24 14:00",
        "2026-11-24 14:30",
    ]


def test_minimum_notice_hides_starts_too_soon():
    now = berlin(TUESDAY, 9, 3)
    times = local_times(search(TUESDAY, rules=Rules(counters=1, min_notice_minutes=60), now=now))
    assert times[0] == "2026-11-10 10:10"


def test_starts_before_now_are_never_offered():
    times = local_times(search(TUESDAY, now=berlin(TUESDAY, 14, 0)))
    assert times[0] == "2026-11-10 14:00"


def test_horizon_ends_the_search():
    now = berlin(TUESDAY, 10, 0)
    rules = Rules(counters=1, horizon_days=2)
    found = search(TUESDAY, last_day=TUESDAY + timedelta(days=10), rules=rules, now=now)
    assert local_times(found)[-1] == "2026-11-12 10:00"
    assert all(slot.start <= now + timedelta(days=2) for slot in found)


def test_a_claim_takes_one_seat_of_its_unit_and_of_starts_covering_it():
    claims = [Claim(berlin(TUESDAY, 9, 0), 0)]
    found = {slot.start: slot.seats_left for slot in search(TUESDAY, claims=claims, duration=30)}
    assert found[berlin(TUESDAY, 8, 30)] == 2  # 8:30–9:00 does not touch the 9:00 unit
    assert found[berlin(TUESDAY, 8, 40)] == 1
    assert found[berlin(TUESDAY, 9, 0)] == 1
    assert found[berlin(TUESDAY, 9, 10)] == 2


def test_a_fully_claimed_unit_yields_no_start_covering_it():
    claims = [Claim(berlin(TUESDAY, 9, 0), seat) for seat in (0, 1)]
    times = local_times(search(TUESDAY, claims=claims, duration=20))
    assert "2026-11-10 08:50" not in times
    assert "2026-11-10 09:00" not in times
    assert "2026-11-10 08:40" in times and "2026-11-10 09:10" in times


def test_a_booking_keeps_one_seat_for_its_whole_duration():
    # Seat 0 busy in the first unit, seat 1 busy in the second: both seats are free somewhere, but no single
    # seat is free for both units, so a 20-minute visit cannot start at 9:00.
    claims = [Claim(berlin(TUESDAY, 9, 0), 0), Claim(berlin(TUESDAY, 9, 10), 1)]
    found = {slot.start: slot.seats_left for slot in search(TUESDAY, claims=claims, duration=20)}
    assert berlin(TUESDAY, 9, 0) not in found
    assert found[berlin(TUESDAY, 9, 10)] == 1


def test_expired_reservations_and_ended_cool_downs_free_their_seat():
    now = berlin(TUESDAY, 7, 0)
    unit = berlin(TUESDAY, 9, 0)
    claims = [
        Claim(unit, 0, expires_at=now - timedelta(minutes=1)),
        Claim(unit, 1, hold_until=now - timedelta(seconds=1)),
    ]
    found = {slot.start: slot.seats_left for slot in search(TUESDAY, claims=claims, now=now)}
    assert found[unit] == 2


def test_live_reservations_and_cool_downs_keep_their_seat():
    now = berlin(TUESDAY, 7, 0)
    unit = berlin(TUESDAY, 9, 0)
    claims = [
        Claim(unit, 0, expires_at=now + timedelta(minutes=1)),
        Claim(unit, 1, hold_until=now + timedelta(minutes=1)),
    ]
    assert unit not in {slot.start for slot in search(TUESDAY, claims=claims, now=now)}


def test_held_back_seats_are_not_offered_online_but_internally():
    rules = Rules(counters=3, held_back_seats=1)
    unit = berlin(TUESDAY, 9, 0)
    assert {slot.seats_left for slot in search(TUESDAY, rules=rules)} == {2}
    internal = {slot.start: slot.seats_left for slot in search(TUESDAY, rules=rules, include_held_back=True)}
    assert internal[unit] == 3
    # Online seats are 0 and 1; a claim on the held-back seat 2 does not reduce them.
    claims = [Claim(unit, 2)]
    online = {slot.start: slot.seats_left for slot in search(TUESDAY, rules=rules, claims=claims)}
    assert online[unit] == 2
    claims = [Claim(unit, 0), Claim(unit, 1)]
    assert unit not in {slot.start for slot in search(TUESDAY, rules=rules, claims=claims)}
    internal = {s.start: s.seats_left for s in search(TUESDAY, rules=rules, claims=claims, include_held_back=True)}
    assert internal[unit] == 1


def test_combined_services_need_their_summed_duration_to_fit():
    # A passport (15) and a registration certificate (10): 25 minutes, three 10-minute units.
    times = local_times(search(TUESDAY, duration=15 + 10))
    assert times[-1] == "2026-11-10 15:30"
    assert "2026-11-10 11:30" in times and "2026-11-10 11:40" not in times
    units = slots.claim_units(berlin(TUESDAY, 9), 25, 0, 10)
    assert [u.astimezone(BERLIN).strftime("%H:%M") for u in units] == ["09:00", "09:10", "09:20"]


def test_claim_units_include_the_buffer_and_round_up():
    start = berlin(TUESDAY, 9)
    assert slots.claim_units(start, 15, 0, 15) == [start]
    assert slots.claim_units(start, 15, 5, 15) == [start, start + timedelta(minutes=15)]
    assert slots.claim_units(start, 5, 0, 30) == [start]


@pytest.mark.parametrize(
    ("sunday", "offset_before", "offset_after"),
    [(date(2026, 3, 29), 1, 2), (date(2026, 10, 25), 2, 1)],
    ids=["spring-forward", "fall-back"],
)
def test_days_around_a_dst_change_open_at_local_office_hours(sunday, offset_before, offset_after):
    every_day = office(weekdays=range(7), hours=((time(8), time(10)),))
    rules = Rules(slot_minutes=60, counters=1, horizon_days=400)
    found = search(
        sunday - timedelta(days=1),
        last_day=sunday + timedelta(days=1),
        periods=every_day,
        rules=rules,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    by_day = {}
    for slot in found:
        local = slot.start.astimezone(BERLIN)
        by_day.setdefault(local.date(), []).append(local)
    assert sorted(by_day) == [sunday - timedelta(days=1), sunday, sunday + timedelta(days=1)]
    for day, starts in by_day.items():
        assert [s.strftime("%H:%M") for s in starts] == ["08:00", "09:00"]
        expected = offset_before if day < sunday else offset_after
        assert all(s.utcoffset() == timedelta(hours=expected) for s in starts)
    # The UTC hour moves by one across the change; the local hour does not.
    assert by_day[sunday][0].astimezone(UTC).hour == 8 - offset_after


def test_day_bounds_span_23_and_25_hours_on_dst_sundays():
    begins, ends = slots.day_bounds(date(2026, 3, 29))
    assert ends - begins == timedelta(hours=23)
    begins, ends = slots.day_bounds(date(2026, 10, 25))
    assert ends - begins == timedelta(hours=25)


class TestRefusal:
    RULES = Rules(slot_minutes=10, counters=1, horizon_days=30, min_notice_minutes=120)

    def refusal(self, start: datetime, duration: int = 20, now: datetime = NOW, closures=()) -> str | None:
        return slots.refusal(self.RULES, office(), closures, duration, start, now)

    def test_a_start_on_the_grid_inside_hours_is_accepted(self):
        assert self.refusal(berlin(TUESDAY, 9, 10)) is None

    @pytest.mark.parametrize(
        ("start", "code"),
        [
            (NOW - timedelta(minutes=1), "past"),
            (NOW + timedelta(minutes=60), "notice"),
            (NOW + timedelta(days=31), "horizon"),
            (berlin(date(2026, 11, 18), 9), "holiday"),
            (berlin(date(2026, 11, 14), 9), "outside_hours"),
            (berlin(TUESDAY, 11, 50), "outside_hours"),
            (berlin(TUESDAY, 12, 10), "outside_hours"),
            (berlin(TUESDAY, 9, 5), "off_grid"),
        ],
    )
    def test_refused_with_a_reason(self, start, code):
        assert self.refusal(start) == code

    def test_a_closed_day_is_refused_as_closed(self):
        assert self.refusal(berlin(TUESDAY, 9), closures=[ClosedDays(TUESDAY, TUESDAY)]) == "closed"

    def test_refusal_agrees_with_the_free_list(self):
        rules = self.RULES
        offered = {s.start for s in slots.free_slots(rules, office(), (), (), 25, TUESDAY, TUESDAY, NOW)}
        start = berlin(TUESDAY, 7, 0)
        while start < berlin(TUESDAY, 17, 0):
            assert (slots.refusal(rules, office(), (), 25, start, NOW) is None) == (start in offered), start
            start += timedelta(minutes=5)
