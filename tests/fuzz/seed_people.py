"""Rows about people the demo data lacks, so the form crawl reaches the buttons acting on them (issue 11: shrink
UNREACHED): a second member and an open invitation of the demo business, an open staff invitation, an inactive
catalogue entry, a waiting-room display link, a booking made by the signed-in demo citizen, and two-factor sign-in
set up by the demo business's owner. Each is made through its service, as a person would make it, and audited.
Returns the pages the crawl should start from, by person: an invitation link, which only mail carries."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from portal.accounts.models import User
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import BERLIN, utcnow

INVITATION_LINK = re.compile(r"/einladung/([A-Za-z0-9_-]+)")


def _user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def people_rows(demo_domain: str) -> dict[str | None, list[str]]:
    """Call inside an app context, after the demo data is loaded."""
    with current_app.test_request_context("/"):  # the mailed links are made with url_for
        return _people_rows(demo_domain)


def _people_rows(demo_domain: str) -> dict[str | None, list[str]]:
    owner, citizen = _user(f"unternehmen@{demo_domain}"), _user(f"buerger@{demo_domain}")
    admin, department_admin = _user(f"admin@{demo_domain}"), _user(f"amtsadmin@{demo_domain}")
    starts: dict[str | None, list[str]] = {}
    if owner is not None and citizen is not None:
        invitation = _second_member(Actor.for_user(owner), Actor.for_user(citizen))
        if invitation is not None:
            # accounts.invitation's form is shown to a signed-in person (refused when the address is not theirs).
            starts["buerger"] = [invitation]
        _two_factor(Actor.for_user(owner))
    if admin is not None:
        _staff_rows(Actor.for_user(admin))
    if department_admin is not None:
        _display_link(Actor.for_user(department_admin))
    if citizen is not None:
        _citizens_booking(citizen)
        _another_session(citizen)
    return starts


def _second_member(owner: Actor, member: Actor) -> str | None:
    """orgs.remove_member and orgs.transfer_ownership need a second member; orgs.withdraw_invitation an open one."""
    from portal.accounts.services import invitations, organisations
    from portal.mail.models import OutboxMessage

    [membership, *_rest] = organisations.my_organisations(owner)
    organisation_id = membership.organisation.id
    assert member.user is not None
    organisations.invite_member(owner, organisation_id, member.user.email)
    mail = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == member.user.email).order_by(OutboxMessage.id.desc())
    )
    found = INVITATION_LINK.search(mail.body_text or "") if mail is not None else None
    if found is not None:
        invitations.accept_invitation(member, found.group(1))
    organisations.invite_member(owner, organisation_id, "neues.mitglied@example.org")
    mail = db.session.scalar(
        sa.select(OutboxMessage)
        .where(OutboxMessage.recipient == "neues.mitglied@example.org")
        .order_by(OutboxMessage.id.desc())
    )
    found = INVITATION_LINK.search(mail.body_text or "") if mail is not None else None
    return found.group(0) if found is not None else None


def _two_factor(person: Actor) -> None:
    """me.disable_totp is shown to a person who set up two-factor sign-in themselves (staff must keep theirs);
    accounts.login_totp follows their password (the crawl's "unternehmen/passwort" signs in so)."""
    import pyotp

    from portal.accounts.services import totp

    setup = totp.begin_setup(person)
    if not setup.enabled:
        totp.confirm_setup(person, pyotp.TOTP(setup.secret).now())


def _staff_rows(admin: Actor) -> None:
    """admin.invitation_revoke needs an open staff invitation, admin.catalogue_activate an inactive entry."""
    from portal.admin.services import catalogue, staff
    from portal.departments.models import Department

    department_id = db.session.scalar(sa.select(Department.id).order_by(Department.id).limit(1))
    staff.invite_staff(admin, "neue.kraft@example.org", "clerk", department_id)
    if department_id is not None:
        entry = catalogue.save_entry(admin, catalogue.CatalogueData("Fuzz-Leistung (stillgelegt)", department_id))
        catalogue.set_entry_active(admin, entry.id, False)


def _display_link(department_admin: Actor) -> None:
    """desk.screens_revoke needs a display link of a location the department admin runs."""
    from appointments.services import config, display_tokens

    locations = config.configurable_locations(department_admin)
    if locations:
        display_tokens.create_token(department_admin, locations[0][0].id, "Wartebereich EG")


def _citizens_booking(citizen: User) -> None:
    """appointments.mine_cancel and mine_reschedule need a booking the signed-in citizen made."""
    from appointments.models import LocationSettings, OfferedService
    from appointments.services import availability, booking

    offered = db.session.scalars(
        sa.select(OfferedService)
        .join(LocationSettings, LocationSettings.location_id == OfferedService.location_id)
        .where(OfferedService.active.is_(True), LocationSettings.active.is_(True))
        .order_by(OfferedService.id)
    ).all()
    first = utcnow().astimezone(BERLIN).date() + timedelta(days=2)
    for offer in offered:
        items = [(offer.catalogue_service_id, 1)]
        free = availability.free_slots(offer.location_id, items, first, first + timedelta(days=14))
        if free:
            booking.hold_booking(
                Actor.for_user(citizen),
                location_id=offer.location_id,
                items=items,
                start=free[0].start,
                name=citizen.display_name or "Erika Mustermann",
                email=citizen.email,
                user_id=citizen.id,
            )
            return


def _another_session(user: User) -> None:
    """me.revoke_session and me.revoke_other_sessions need a second session: signed in on another device too."""
    from portal.accounts.sessions import start_session

    with current_app.test_request_context("/", headers={"User-Agent": "Tablet (Fuzz)"}):
        start_session(user, "password")
        db.session.commit()
