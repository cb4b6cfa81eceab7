"""Properties of the slot engine over random hours, rules, claims and days (around DST changes and holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from appointments import slots
from appointments.slots import Claim, ClosedDays, Period, Rules
from portal.timeutil import BERLIN

# Weeks holding a DST change, Good Friday/Easter Monday, Reformationstag and Buß- und Bettag.
FIRST_DAYS = [date(2026, 3, 26), date(2026, 4, 1), date(2026, 10, 22), date(2026, 10, 29), date(2026, 11, 16)]


@st.composite
def rules(draw) -> Rules:
    counters = draw(st.integers(1, 5))
    return Rules(
        slot_minutes=draw(st.sampled_from([5, 10, 15, 20, 30, 60])),
        counters=counters,
        held_back_seats=draw(st.integers(0, counters - 1)),
        horizon_days=draw(st.integers(1, 20)),
        min_notice_minutes=draw(st.integers(0, 48 * 60)),
        buffer_minutes=draw(st.sampled_from([0, 5, 10, 15])),
    )


@st.composite
def periods(draw) -> list[Period]:
    found = []
    for weekday in range(7):
        # Up to three intervals a day, in order and apart: breaks between them.
        marks = sorted(draw(st.sets(st.integers(6 * 12, 20 * 12), max_size=6)))
        for opens, closes in zip(marks[::2], marks[1::2], strict=False):
            found.append(Period(weekday, time(opens // 12, opens % 12 * 5), time(closes // 12, closes % 12 * 5)))
    return found


@st.composite
def scenario(draw):
    rule = draw(rules())
    first_day = draw(st.sampled_from(FIRST_DAYS))
    now = datetime.combine(first_day, time(0), tzinfo=BERLIN).astimezone(UTC) + timedelta(
        minutes=draw(st.integers(-3 * 24 * 60, 2 * 24 * 60))
    )
    last_day = first_day + timedelta(days=draw(st.integers(0, 10)))
    closures = [
        ClosedDays(day, day + timedelta(days=draw(st.integers(0, 2))))
        for day in draw(st.lists(st.sampled_from([first_day + timedelta(days=n) for n in range(10)]), max_size=2))
    ]
    claims = [
        Claim(
            datetime.combine(first_day + timedelta(days=day), time(0), tzinfo=BERLIN).astimezone(UTC)
            + timedelta(minutes=minute * 5),
            seat,
            expires_at=now + timedelta(minutes=expires) if expires is not None else None,
        )
        for day, minute, seat, expires in draw(
            st.lists(
                st.tuples(
                    st.integers(0, 10),
                    st.integers(6 * 12, 20 * 12),
                    st.integers(0, rule.counters - 1),
                    st.none() | st.integers(-60, 60),
                ),
                max_size=60,
                unique_by=lambda c: (c[0], c[1], c[2]),
            )
        )
    ]
    duration = draw(st.integers(5, 120))
    return rule, draw(periods()), closures, claims, duration, first_day, last_day, now


def run(rule, hours, closures, claims, duration, first_day, last_day, now, **kwargs):
    return slots.free_slots(rule, hours, closures, claims, duration, first_day, last_day, now, **kwargs)


@settings(max_examples=150, deadline=None)
@given(scenario())
def test_every_start_lies_inside_one_opening_interval_with_its_whole_duration(case):
    rule, hours, closures, _claims, duration, first_day, last_day, now = case
    for slot in run(*case):
        day = slot.start.astimezone(BERLIN).date()
        end = slot.start + timedelta(minutes=duration + rule.buffer_minutes)
        containing = [i for i in slots.opening_intervals(day, hours) if i.opens <= slot.start and end <= i.closes]
        assert len(containing) == 1
        offset = slot.start - containing[0].opens
        assert offset % timedelta(minutes=rule.slot_minutes) == timedelta(0)
        assert first_day <= day <= last_day
        assert not slots.is_public_holiday(day)
        assert not slots.is_closed(day, closures)
        assert now + timedelta(minutes=rule.min_notice_minutes) <= slot.start <= now + timedelta(days=rule.horizon_days)
        assert slots.refusal(rule, hours, closures, duration, slot.start, now) is None


@settings(max_examples=150, deadline=None)
@given(scenario())
def test_seats_left_never_exceed_counters_minus_held_back(case):
    rule = case[0]
    found = run(*case)
    assert all(1 <= slot.seats_left <= rule.counters - rule.held_back_seats for slot in found)
    assert found == sorted(found, key=lambda slot: slot.start)
    internal = {slot.start: slot.seats_left for slot in run(*case, include_held_back=True)}
    for slot in found:
        assert slot.seats_left <= internal[slot.start] <= rule.counters


@settings(max_examples=150, deadline=None)
@given(scenario(), st.data())
def test_a_fully_claimed_unit_yields_no_start_covering_it(case, data):
    rule, hours, closures, claims, duration, first_day, last_day, now = case
    before = run(*case)
    if not before:
        return
    unit = data.draw(st.sampled_from(before)).start
    full = [c for c in claims if c.unit_start != unit] + [Claim(unit, seat) for seat in range(rule.counters)]
    after = run(rule, hours, closures, full, duration, first_day, last_day, now)
    for slot in after:
        covered = slots.claim_units(slot.start, duration, rule.buffer_minutes, rule.slot_minutes)
        assert unit not in covered


@settings(max_examples=100, deadline=None)
@given(scenario(), st.data())
def test_another_claim_never_adds_seats(case, data):
    rule, hours, closures, claims, duration, first_day, last_day, now = case
    before = {slot.start: slot.seats_left for slot in run(*case)}
    if not before:
        return
    unit = data.draw(st.sampled_from(sorted(before)))
    taken = {c.seat for c in claims if c.unit_start == unit}
    free = [seat for seat in range(rule.counters) if seat not in taken]
    if not free:
        return
    more = [*claims, Claim(unit, data.draw(st.sampled_from(free)))]
    after = {
        slot.start: slot.seats_left for slot in run(rule, hours, closures, more, duration, first_day, last_day, now)
    }
    assert set(after) <= set(before)
    assert all(after[start] <= before[start] for start in after)
    assert after.get(unit, 0) <= before[unit]
