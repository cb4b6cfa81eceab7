"""The dpo's overview: unusual patterns in a seeded access log, found with a bounded number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from dataaccess.errors import AccessRefused
from dataaccess.models import AccessLog
from dataaccess.services import access, breakglass, monitoring
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import BERLIN, utcnow
from tests.dataaccess.builders import World, approved_agreement, today
from tests.portal.admin.conftest import sign_in

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=BERLIN)  # a Friday
REASON = "Brand im Nachbarhaus, Statik der Garage unklar, Feuerwehr fragt an."


@pytest.fixture
def app_config(app_config):
    return {**app_config, "DATAACCESS_MANY_SUBJECTS_THRESHOLD": 4}


def _at(log_id: int, when: datetime) -> None:
    db.session.execute(sa.update(AccessLog).where(AccessLog.id == log_id).values(occurred_at=when))
    db.session.commit()


def _read(world: World, agreement, subject_id: int, when: datetime, fields=("status",), purpose=None) -> None:
    try:
        result = access.read(
            Actor.for_user(world.official),
            agreement.reference,
            purpose or world.purpose.code,
            "VA-2026-1",
            subject_id,
            list(fields),
        )
        log_id = result.log_id
    except AccessRefused as refused:
        assert refused.log_id is not None
        log_id = refused.log_id
    _at(log_id, when)


def _berlin(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def seeded(world: World):
    agreement = approved_agreement(world)
    citizen, other = world.citizen.id, world.other_citizen.id
    for when in (
        _berlin(19, 10),  # Thursday, in office hours
        _berlin(19, 20),  # Thursday evening: off
        _berlin(21, 10),  # Saturday: off
        _berlin(18, 10),  # Buß- und Bettag, a holiday in Saxony: off
        _berlin(23, 6, 59),  # Monday before 7: off
        _berlin(23, 7),  # Monday 7:00: in
        _berlin(1, 20, month=10),  # before the 30-day window
    ):
        _read(world, agreement, citizen, when)
    # Thursday the 26th: four people, one of them at 0:30 Berlin time (still the 25th in UTC).
    _read(world, agreement, citizen, _berlin(26, 10))
    _read(world, agreement, other, _berlin(26, 11))
    _read(world, agreement, world.dpo.id, _berlin(26, 12))
    _read(world, agreement, world.steward.id, _berlin(26, 0, 30))
    # Wednesday the 25th: two people.
    _read(world, agreement, citizen, _berlin(25, 10))
    _read(world, agreement, other, _berlin(25, 10, 5))
    # Refused attempts.
    _read(world, agreement, citizen, _berlin(24, 10), purpose=world.other_purpose.code)
    _read(world, agreement, citizen, _berlin(24, 10, 10), fields=("geburtsdatum",))
    _read(world, agreement, citizen, _berlin(24, 22), fields=("behinderung",))
    return agreement


def test_office_hours_are_weekdays_7_to_18_in_berlin_except_holidays():
    assert monitoring.is_office_hours(_berlin(19, 10))
    assert monitoring.is_office_hours(_berlin(23, 7))
    assert not monitoring.is_office_hours(_berlin(23, 6, 59))
    assert not monitoring.is_office_hours(_berlin(19, 18))
    assert not monitoring.is_office_hours(_berlin(21, 10))  # Saturday
    assert not monitoring.is_office_hours(_berlin(18, 10))  # Buß- und Bettag
    # Summer time: 7:30 in Berlin is 5:30 UTC.
    assert monitoring.is_office_hours(datetime(2026, 7, 1, 7, 30, tzinfo=BERLIN))


def test_the_dashboard_finds_the_patterns_in_the_log(world, seeded):
    board = monitoring.dashboard(Actor.for_user(world.dpo), now=NOW)

    assert board.off_hours_count == 6
    off = sorted(log.occurred_at.astimezone(BERLIN).strftime("%d. %H:%M") for log in board.off_hours)
    assert off == ["18. 10:00", "19. 20:00", "21. 10:00", "23. 06:59", "24. 22:00", "26. 00:30"]

    assert board.threshold == 4
    (many,) = board.many_subjects
    assert (many.user_id, many.day.isoformat(), many.subjects, many.reads) == (
        world.official.id,
        "2026-11-26",
        4,
        4,
    )
    assert board.who(many.user_id, many.token_id) == "Olaf (sachbearbeitung@stadt.example)"

    assert board.refusals == [("field_not_allowed", 2), ("purpose_not_allowed", 1)]
    assert board.refused_total == 3


def test_expiring_agreements_and_open_reviews_are_listed(world, seeded):
    soon = approved_agreement(world, valid_to=today() + timedelta(days=10))
    later = approved_agreement(world, valid_to=today() + timedelta(days=45))
    session = breakglass.open_session(
        Actor.for_user(world.official),
        department_id=world.verkehr.id,
        dataset_id=world.permits.id,
        category="public_safety",
        reason=REASON,
    )
    board = monitoring.dashboard(Actor.for_user(world.dpo))
    assert [a.reference for a in board.expiring] == [soon.reference]
    assert later.reference not in [a.reference for a in board.expiring]
    assert seeded.reference not in [a.reference for a in board.expiring]  # valid for a year
    assert [row.session.id for row in board.open_reviews] == [session.id]


def test_the_dashboard_needs_the_same_queries_for_a_long_log(world, seeded):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    dpo = Actor.for_user(world.dpo)
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        db.session.expire_all()  # both runs start from the same (cold) session
        statements.clear()
        monitoring.dashboard(dpo, now=NOW)
        few = len(statements)
        statements.clear()
        for hour in range(25):
            when = _berlin(22, 0) + timedelta(minutes=hour)  # a Sunday night: all off hours
            _read(world, seeded, world.citizen.id, when)
        db.session.expire_all()
        statements.clear()
        board = monitoring.dashboard(dpo, now=NOW)
        assert len(statements) == few
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert board.off_hours_count == 31


def test_only_the_dpo_sees_the_dashboard(world, client, seeded):
    _read(world, seeded, world.citizen.id, utcnow(), fields=("geburtsdatum",))  # in the window whenever this runs
    with pytest.raises(Forbidden):
        monitoring.dashboard(Actor.for_user(world.steward))
    for user in (world.steward, world.dpo):
        user.totp_enabled_at = utcnow()
    db.session.commit()
    sign_in(client, world.steward)
    assert client.get("/admin/datenzugriff/datenschutz/").status_code == 403
    sign_in(client, world.dpo)
    page = client.get("/admin/datenzugriff/datenschutz/")
    assert page.status_code == 200
    assert "Zugriffe außerhalb der Dienstzeit" in page.text
    assert "Feld nicht erlaubt" in page.text
