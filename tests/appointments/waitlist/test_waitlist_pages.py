"""The waitlist pages as a browser without JavaScript uses them: join, view/leave, answer an offer."""

from __future__ import annotations

import re

from appointments.models import WaitlistEntry
from appointments.services.booking import cancel_booking
from portal.actors import ANONYMOUS
from tests.appointments.booking.builders import at, book, count, make_office, workday
from tests.appointments.waitlist.builders import ENTRY_LINK, booking, entry, join, offer_link
from tests.builders import csrf_from


def _join_data(page: str, office, **overrides) -> dict:
    day = workday()
    data = {
        "csrf_token": csrf_from(page),
        f"service_{office.service.id}": "y",
        f"quantity_{office.service.id}": "1",
        "locations": str(office.location.id),
        "first_day": day.isoformat(),
        "last_day": f"{day.day}.{day.month}.{day.year}",
        "name": "Wanda Wartend",
        "email": "wanda@example.org",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_join_page_shows_services_and_locations(client, app):
    office = make_office()
    page = client.get("/termine/warteliste")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count("<h1") == 1
    assert office.service.name in html and office.location.name in html


def test_joining_with_errors_shows_them_next_to_the_fields_and_keeps_the_input(client, app):
    office = make_office()
    page = client.get("/termine/warteliste").get_data(as_text=True)

    response = client.post(
        "/termine/warteliste",
        data=_join_data(page, office, **{f"service_{office.service.id}": None, "email": "kaputt"}),
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-summary"' in html
    assert 'id="email-error"' in html
    assert 'value="Wanda Wartend"' in html
    assert count(WaitlistEntry) == 0


def test_a_rule_refused_by_the_service_is_shown_at_its_field(client, app):
    office = make_office()
    page = client.get("/termine/warteliste").get_data(as_text=True)

    response = client.post("/termine/warteliste", data=_join_data(page, office, last_day="1.1.2020"))

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="last_day-error"' in html and "nicht vor dem ersten Tag" in html
    assert count(WaitlistEntry) == 0


def test_joining_leads_to_the_entry_page_which_can_leave_the_list(client, app):
    office = make_office()
    page = client.get("/termine/warteliste").get_data(as_text=True)

    response = client.post("/termine/warteliste", data=_join_data(page, office))

    assert response.status_code == 302
    match = ENTRY_LINK.search(response.headers["Location"])
    assert match is not None
    entry_id, token = int(match.group(1)), match.group(2)
    shown = client.get(f"/termine/warteliste/{entry_id}/{token}").get_data(as_text=True)
    assert "Sie stehen auf der Warteliste." in shown
    assert client.get(f"/termine/warteliste/{entry_id}/{'x' * 43}").status_code == 404
    left = client.post(f"/termine/warteliste/{entry_id}/{token}/verlassen", data={"csrf_token": csrf_from(shown)})
    assert left.status_code == 302
    assert entry(entry_id).status == "cancelled"


def test_the_offer_page_changes_nothing_on_get_and_accepts_on_post(client, app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9, 0))
    joined = join(office, "first@example.org", day)
    cancel_booking(ANONYMOUS, held.booking)
    reference, token = offer_link("first@example.org")

    page = client.get(f"/termine/angebot/{reference}/{token}")

    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Termin annehmen" in html
    assert booking(reference).status == "offered"
    assert client.get(f"/termine/angebot/{reference}/{'x' * 43}").status_code == 404
    accepted = client.post(f"/termine/angebot/{reference}/{token}/annehmen", data={"csrf_token": csrf_from(html)})
    assert accepted.status_code == 302
    assert accepted.headers["Location"].endswith(f"/termine/verwalten/{reference}/{token}")
    assert booking(reference).status == "confirmed"
    assert entry(joined.entry.id).status == "booked"


def test_declining_on_the_offer_page_and_staying_on_the_list(client, app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9, 0))
    joined = join(office, "first@example.org", day)
    second = join(office, "second@example.org", day)
    cancel_booking(ANONYMOUS, held.booking)
    reference, token = offer_link("first@example.org")
    html = client.get(f"/termine/angebot/{reference}/{token}").get_data(as_text=True)

    response = client.post(
        f"/termine/angebot/{reference}/{token}/ablehnen", data={"csrf_token": csrf_from(html), "keep": "y"}
    )

    assert response.status_code == 302
    assert entry(joined.entry.id).status == "waiting"
    assert entry(second.entry.id).status == "offered"
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"nicht mehr gültig", after)


def test_an_ordinary_booking_is_no_offer(client, app):
    office = make_office()
    held = book(office, at(workday(), 9, 0))
    assert client.get(f"/termine/angebot/{held.booking.reference}/{held.manage_token}").status_code == 404
