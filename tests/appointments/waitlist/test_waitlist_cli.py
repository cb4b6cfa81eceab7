"""`flask appointments waitlist`: offers free slots to the people waiting, with progress and a summary."""

from __future__ import annotations

from tests.appointments.booking.builders import make_office, workday
from tests.appointments.waitlist.builders import entry, join


def test_the_waitlist_command_offers_free_slots_and_reports(app, runner):
    office = make_office(counters=1)
    day = workday()
    first = join(office, "first@example.org", day, day)

    result = runner.invoke(args=["appointments", "waitlist"])

    assert result.exit_code == 0, result.output
    assert "1/1: offered T-" in result.output
    assert "1 offer(s) made" in result.output and "0 still waiting" in result.output
    assert entry(first.entry.id).status == "offered"
