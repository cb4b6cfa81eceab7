"""The calendar without JavaScript: which days have free times, which are booked out or closed."""

from __future__ import annotations

import re
from datetime import time, timedelta

from appointments.models import Closure
from appointments.services.booking import hold_booking
from portal.actors import ANONYMOUS
from portal.extensions import db
from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
from tests.appointments.web.builders import Wizard, berlin, open_tuesday, text
from tests.builders import make_department


def _cell(page_text: str, day_label: str) -> str:
    """What the calendar says about one day, e.g. "Di., 8. Dez. ausgebucht"."""
    match = re.search(
        re.escape(day_label)
        + r" (\d+ freie Zeiten?|ausgebucht|geschlossen|vorbei|heute keine Zeiten mehr"
        + r"|noch nicht buchbar(?: \(ab [^)]+\))?)",
        page_text,
    )
    assert match, f"{day_label} not in the calendar"
    return match.group(1)


def _calendar_of_an_all_day_location(client, query: str, **settings) -> str:
    """The calendar's text for a location open 0:00–23:50 every day, with the given settings."""
    department = make_department()
    service = make_catalogue_service(department)
    location = make_bookable_location(
        department=department, hours=((time(0, 0), time(23, 50)),), weekdays=range(7), **settings
    )
    offer(location, service, minutes=15)
    wizard = Wizard(client)
    wizard.services((service, 1))
    wizard.location(location)
    return text(client.get(f"/termine/buchen/termin{query}"))


def test_days_read_free_booked_out_or_closed(client, app):
    from babel.dates import format_date

    department = make_department()
    service = make_catalogue_service(department)
    # Open half an hour on weekdays (starts 8:00 and 8:10); a visit at 8:00 also covers the 8:10 unit.
    location = make_bookable_location(department=department, counters=1, hours=((time(8, 0), time(8, 30)),))
    offer(location, service, minutes=15)
    tuesday = open_tuesday()
    db.session.add(
        Closure(location_id=location.id, first_day=tuesday + timedelta(days=1), last_day=tuesday + timedelta(days=1))
    )
    db.session.commit()
    hold_booking(
        ANONYMOUS,
        location_id=location.id,
        items=[(service.id, 1)],
        start=berlin(tuesday, 8),
        name="M",
        email="m@example.org",
    )
    wizard = Wizard(client)
    wizard.services((service, 1))
    wizard.location(location)

    page = client.get(f"/termine/buchen/termin?ab={tuesday}")
    assert page.status_code == 200
    seen = text(page)

    def label(day):
        return format_date(day, "EEE, d. MMM", locale="de")

    assert _cell(seen, label(tuesday - timedelta(days=1))) == "2 freie Zeiten"  # Monday: 8:00 and 8:10
    assert _cell(seen, label(tuesday)) == "ausgebucht"
    assert _cell(seen, label(tuesday + timedelta(days=1))) == "geschlossen"  # the closure
    assert _cell(seen, label(tuesday + timedelta(days=4))) == "geschlossen"  # Saturday
    html = page.get_data(as_text=True)
    assert f'aria-label="{format_date(tuesday - timedelta(days=1), "EEEE, d. MMMM y", locale="de")}: ' in html
    assert f"tag={tuesday}" not in html  # no link for a booked-out day


def test_weeks_can_be_leafed_through_but_not_into_the_past(client, app):
    from tests.appointments.web.builders import make_offers

    offers = make_offers()
    wizard = Wizard(client)
    wizard.services((offers.id_card, 1))
    wizard.location(offers.mitte)
    first = client.get("/termine/buchen/termin")
    assert "Frühere Wochen" not in text(first)
    later = re.search(r'href="(/termine/buchen/termin\?ab=[^"]+)">Spätere Wochen', first.get_data(as_text=True))
    assert later
    second = client.get(later.group(1).replace("&amp;", "&"))
    assert "Frühere Wochen" in text(second)


def test_today_reads_over_not_booked_out_when_its_times_have_passed(client, app, monkeypatch):
    from datetime import datetime

    from babel.dates import format_date

    from appointments import slots
    from portal.timeutil import BERLIN
    from tests import clock

    # A Wednesday that is no holiday, whenever the test runs (it used to skip on Saxon holidays).
    clock.freeze(monkeypatch, datetime(2026, 12, 2, 10, 0, tzinfo=BERLIN))
    today = datetime(2026, 12, 2).date()
    assert not slots.is_public_holiday(today)
    # Open all day, every day, but with a day's notice: nothing of today can be booked any more.
    seen = _calendar_of_an_all_day_location(client, "", min_notice_minutes=1440)

    assert _cell(seen, format_date(today, "EEE, d. MMM", locale="de")) == "heute keine Zeiten mehr"


def test_a_day_beyond_the_booking_horizon_says_from_when_it_can_be_booked(client, app, monkeypatch):
    from datetime import datetime

    from babel.dates import format_date

    from portal.timeutil import BERLIN
    from tests import clock

    # A Wednesday with no holiday in the next days, whenever the test runs (a holiday would read "geschlossen").
    clock.freeze(monkeypatch, datetime(2026, 12, 2, 10, 0, tzinfo=BERLIN))
    today = datetime(2026, 12, 2).date()
    # Open all day, every day, bookable two days ahead: the third day opens for booking tomorrow at midnight.
    seen = _calendar_of_an_all_day_location(client, f"?ab={today}", horizon_days=2)

    def label(day):
        return format_date(day, "EEE, d. MMM", locale="de")

    third = today + timedelta(days=3)
    if third.weekday() == 0:  # the next two weeks' table starts on that Monday: look there
        seen = text(client.get(f"/termine/buchen/termin?ab={third}"))
    tomorrow = label(today + timedelta(days=1))
    assert _cell(seen, label(third)) == f"noch nicht buchbar (ab {tomorrow}, 00:00 Uhr)"
    assert "ausgebucht" not in seen
