"""Deleting an account: what the services do with the person's data, said beforehand, done in one transaction."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from appointments.errors import NotFound
from appointments.models import Booking, CalendarFeed, SeatClaim, WaitlistEntry
from appointments.services.booking import find_booking
from appointments.services.feeds import hash_token
from portal.accounts.models import User
from portal.accounts.services.profile import delete_account
from portal.actors import Actor
from portal.extensions import db
from portal.gdpr import ErasureOutcome, register_erasure_handler
from portal.mail.models import OutboxMessage
from tests.appointments.booking.builders import at, book, mails_to, make_office, workday
from tests.appointments.waitlist.builders import join, offer_link
from tests.builders import PASSWORD, make_user
from tests.portal.gdpr.builders import NAME, PHONE, booked, details, events, fresh, past_visit

DELETE = "/konto/loeschen"


def _delete(auth):
    return auth.post_form(DELETE, {"password": PASSWORD, "confirm": "y"})


def test_deletion_page_says_what_happens_to_appointments_before_asking_for_the_password(client, auth):
    office = make_office()
    user = make_user("erika@example.org")
    booked(office, user)
    past_visit(office, user)
    auth.login("erika@example.org")

    page = client.get(DELETE).get_data(as_text=True)

    said = page.index("1 offener Termin wird abgesagt")
    assert "Absage per E-Mail" in page
    assert page.index("2 Termine (auch vergangene und abgesagte) bleiben für die Statistik") > said
    assert said < page.index('name="password"')


def test_deletion_page_says_when_there_is_nothing_to_cancel(client, auth):
    make_user("erika@example.org")
    auth.login("erika@example.org")

    page = client.get(DELETE).get_data(as_text=True)

    assert "Sie haben mit diesem Konto keine offenen Termine." in page
    assert "ohne Anmeldung gebucht haben, bleiben bestehen" in page
    assert "wird abgesagt" not in page


def test_an_empty_password_is_asked_for_not_called_wrong(client, auth):
    make_user("erika@example.org")
    auth.login("erika@example.org")

    page = client.get(DELETE).get_data(as_text=True)
    assert "– optional" not in page  # the password is required where the account has one

    refused = auth.post_form(DELETE, {"password": "", "confirm": "y"})
    said = refused.get_data(as_text=True)
    assert "Bitte geben Sie Ihr Passwort ein" in said
    assert "Das Passwort ist nicht richtig" not in said
    # The error summary comes before the page's heading, where the focus lands.
    assert said.index('id="error-summary"') < said.index("<h1")
    assert db.session.get(User, db.session.scalar(sa.select(User.id))).email == "erika@example.org"


def test_deleting_the_account_cancels_open_bookings_and_mails_the_cancellation(client, auth):
    office = make_office()
    user = make_user("erika@example.org")
    ahead = booked(office, user).booking
    auth.login("erika@example.org")

    response = _delete(auth)

    assert response.status_code == 200
    assert "Termine: 1 Termin abgesagt, 1 Termin anonymisiert." in response.get_data(as_text=True)
    booking = fresh(ahead.id)
    assert booking.status == "cancelled" and booking.cancelled_at is not None
    assert booking.cancel_reason == "Das Konto im Stadtportal wurde gelöscht."
    assert db.session.scalar(sa.select(sa.func.count()).where(SeatClaim.booking_id == ahead.id)) == 0
    [cancelled] = events("appointment.cancelled")
    assert details(cancelled) == {"reference": ahead.reference, "reason": "account_deleted"}
    assert cancelled.subject_user_id == user.id
    *_, mail = mails_to("erika@example.org")
    assert ahead.reference in mail.subject and "abgesagt" in mail.subject
    assert [a.content_type for a in mail.attachments] == ["text/calendar; method=CANCEL"]
    [deleted] = events("account.deleted")
    erased = details(deleted)["erased"]["appointments"]
    assert erased["cancelled"] == [ahead.reference] and erased["pseudonymised"] == 1


def test_deleting_the_account_leaves_no_contact_on_any_booking_but_keeps_the_statistics(client, auth):
    office = make_office()
    user = make_user("erika@example.org")
    ahead = booked(office, user).booking
    before = past_visit(office, user)
    visit = (before.starts_at, before.location_id, before.served_at)
    auth.login("erika@example.org")

    _delete(auth)

    db.session.expire_all()
    rows = db.session.scalars(sa.select(Booking).where(Booking.user_id == user.id)).all()
    assert sorted(b.id for b in rows) == sorted([ahead.id, before.id])
    assert all((b.name, b.email, b.phone) == ("", None, None) for b in rows)
    for column in (Booking.name, Booking.email, Booking.phone):
        assert db.session.scalar(sa.select(sa.func.count()).where(column.in_([NAME, user.email, PHONE]))) == 0
    past = fresh(before.id)
    assert past.status == "served"  # what happened stays what happened
    assert (past.starts_at, past.location_id, past.served_at) == visit
    assert [(i.catalogue_service_id, i.quantity) for i in past.items] == [(office.service.id, 1)]
    assert db.session.get(User, user.id).email == f"deleted-{user.id}@invalid"


def test_the_mailed_manage_link_stops_working_after_the_deletion(client, auth):
    office = make_office()
    user = make_user("erika@example.org")
    held = booked(office, user)
    assert find_booking(held.booking.reference, held.manage_token).id == held.booking.id
    auth.login("erika@example.org")

    _delete(auth)

    with pytest.raises(NotFound):
        find_booking(held.booking.reference, held.manage_token)


def test_bookings_made_without_signing_in_are_not_touched(client, auth):
    office = make_office(counters=2)
    make_user("erika@example.org")
    anonymous = book(office, at(workday(), 11), email="erika@example.org", name=NAME).booking
    auth.login("erika@example.org")

    _delete(auth)

    booking = fresh(anonymous.id)
    assert (booking.status, booking.name, booking.email) == ("confirmed", NAME, "erika@example.org")


def test_waitlist_entries_of_the_account_are_removed(client, auth):
    office = make_office()
    user = make_user("erika@example.org")
    day = workday()
    joined = join(office, "erika@example.org", day)
    entry = db.session.get(WaitlistEntry, joined.entry.id)
    entry.user_id = user.id  # joined while signed in
    db.session.commit()
    auth.login("erika@example.org")

    assert "Sie werden von 1 Warteliste für Termine genommen." in client.get(DELETE).get_data(as_text=True)
    _delete(auth)

    assert db.session.scalars(sa.select(WaitlistEntry)).all() == []
    [left] = events("appointment.waitlist_left")
    assert details(left)["entry_id"] == joined.entry.id and details(left)["reason"] == "account_deleted"


def test_a_seat_freed_by_the_deletion_is_offered_to_the_next_person_waiting(client, auth):
    office = make_office(counters=1)
    user = make_user("erika@example.org")
    held = booked(office, user)
    join(office, "paula@example.org", held.booking.starts_at.date())
    auth.login("erika@example.org")

    _delete(auth)

    reference, _token = offer_link("paula@example.org")
    offered = db.session.scalars(sa.select(Booking).where(Booking.reference == reference)).one()
    assert offered.starts_at == held.booking.starts_at and offered.status == "offered"


def test_a_clerks_calendar_feeds_are_revoked(app):
    office = make_office()
    user = make_user("clerk@example.org")
    db.session.add(CalendarFeed(token_hash=hash_token("geheim"), user_id=user.id, location_id=office.location.id))
    db.session.commit()

    with app.test_request_context():
        delete_account(Actor.for_user(user), PASSWORD)

    [feed] = db.session.scalars(sa.select(CalendarFeed).execution_options(populate_existing=True)).all()
    assert feed.revoked_at is not None
    assert details(events("appointment.feed_revoked")[0])["location_id"] == office.location.id


def test_a_failing_erasure_handler_rolls_the_whole_deletion_back(app):
    office = make_office()
    user = make_user("erika@example.org")
    ahead = booked(office, user).booking
    before = past_visit(office, user)
    mails = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    seats = db.session.scalar(sa.select(sa.func.count()).where(SeatClaim.booking_id == ahead.id))

    def broken(actor, person) -> ErasureOutcome:
        raise RuntimeError("the files part could not reach its storage")

    register_erasure_handler(app, "broken", broken, order=900)  # after the appointments' handler has run
    with app.test_request_context(), pytest.raises(RuntimeError, match="storage"):
        delete_account(Actor.for_user(user), PASSWORD)

    db.session.expire_all()
    assert db.session.get(User, user.id).email == "erika@example.org"
    assert db.session.get(User, user.id).deleted_at is None
    for booking_id, status in ((ahead.id, "confirmed"), (before.id, "served")):
        booking = fresh(booking_id)
        assert (booking.status, booking.name, booking.email, booking.phone) == (status, NAME, user.email, PHONE)
    assert db.session.scalar(sa.select(sa.func.count()).where(SeatClaim.booking_id == ahead.id)) == seats
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == mails
    assert events("appointment.cancelled") == [] and events("account.deleted") == []
