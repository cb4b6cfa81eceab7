"""Issue 13: signed-in bookings with a verified address need no mail confirmation; the booking mail names the
organisation booked for and says what to bring and what it costs, in the citizen's language."""

from __future__ import annotations

import json

from appointments.models import BookingStatus
from portal.accounts.models import Organisation, OrganisationMember
from portal.actors import Actor
from portal.extensions import db
from tests.appointments.booking.builders import at, audit_actions, book, mails_to, make_office, workday
from tests.builders import make_user


def _with_facts(office, **fields):
    for key, value in fields.items():
        setattr(office.service, key, value)
    db.session.commit()


def test_a_signed_in_booking_with_the_verified_account_address_is_confirmed_at_once(app):
    office = make_office(confirm_within_minutes=30)
    anna = make_user("anna@example.org")

    held = book(office, at(workday(), 9), email="Anna@Example.org", actor=Actor.for_user(anna), user_id=anna.id)

    assert held.booking.status == BookingStatus.CONFIRMED
    assert held.booking.confirm_by is None and held.booking.confirmed_at is not None
    (mail,) = mails_to(held.booking.email or "")
    assert "/termine/bestaetigen/" not in mail.body_text
    assert "Bitte bestätigen" not in mail.subject
    (event,) = audit_actions(held.booking.reference)
    details = json.loads(event.details)
    assert details["status"] == "confirmed" and details["confirmed_by"] == "verified_account"


def test_an_unverified_account_or_another_address_still_confirms_by_mail(app):
    office = make_office(confirm_within_minutes=30, counters=3)
    unverified = make_user("ben@example.org", verified=False)
    anna = make_user("anna@example.org")

    own_unverified = book(office, at(workday(), 9), email="ben@example.org", actor=Actor.for_user(unverified))
    other_address = book(office, at(workday(), 9, 30), email="friend@example.org", actor=Actor.for_user(anna))
    guest = book(office, at(workday(), 10), email="anna@example.org")

    for held in (own_unverified, other_address, guest):
        assert held.booking.status == BookingStatus.RESERVED
        assert held.booking.confirm_by is not None
    (mail,) = mails_to("friend@example.org")
    assert "/termine/bestaetigen/" in mail.body_text


def test_the_booking_mail_names_the_organisation_booked_for(app):
    office = make_office()
    anna = make_user("anna@example.org")
    business = Organisation(name="Muster Bau GmbH")
    business.members.append(OrganisationMember(user_id=anna.id, role="member"))
    db.session.add(business)
    db.session.commit()
    actor = Actor.for_user(anna, on_behalf_of=f"organisation:{business.id}")

    book(office, at(workday(), 9), email="anna@example.org", actor=actor, user_id=anna.id)
    book(office, at(workday(), 10), email="solo@example.org")

    (mail,) = mails_to("anna@example.org")
    assert "Gebucht für: Muster Bau GmbH" in mail.body_text
    assert "Muster Bau GmbH" in (mail.body_html or "")
    (solo,) = mails_to("solo@example.org")
    assert "Gebucht für" not in solo.body_text


def test_the_booking_mail_says_what_to_bring_and_what_it_costs(app):
    office = make_office()
    _with_facts(office, fee_kind="fixed", fee_cents=3700, bring="biometrisches Foto\nalter Ausweis")

    book(office, at(workday(), 9), email="erika@example.org")

    (mail,) = mails_to("erika@example.org")
    assert "Was Sie mitbringen und was es kostet" in mail.body_text
    assert "Personalausweis beantragen – Gebühr: 37,00\xa0€" in mail.body_text
    assert "  - biometrisches Foto\n  - alter Ausweis" in mail.body_text
    assert "<li>alter Ausweis</li>" in (mail.body_html or "")


def test_an_english_mail_uses_the_english_catalogue_texts_and_falls_back_to_german(app):
    office = make_office(counters=2)
    _with_facts(office, name_en="Apply for an identity card", bring="Foto", bring_en="photo", fee_kind="free")

    book(office, at(workday(), 9), email="emma@example.org", language="en")
    _with_facts(office, name_en=None, bring_en="")
    book(office, at(workday(), 10), email="emil@example.org", language="en")

    (english,) = mails_to("emma@example.org")
    assert "Apply for an identity card" in english.body_text and "  - photo" in english.body_text
    (fallback,) = mails_to("emil@example.org")
    assert "Personalausweis beantragen" in fallback.body_text and "  - Foto" in fallback.body_text


def test_a_service_without_facts_adds_no_section_to_the_mail(app):
    office = make_office()
    book(office, at(workday(), 9), email="erika@example.org")
    (mail,) = mails_to("erika@example.org")
    assert "mitbringen" not in mail.body_text
