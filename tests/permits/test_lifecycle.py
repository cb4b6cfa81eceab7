"""A permit's life in time: paid before its first day it waits, the calendar job puts it in force on that day
and ends it after its last; granting an extension marks the original extended. Every move is audited."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from permits.models import PermitState
from permits.services import desk, extensions, lifecycle
from portal.extensions import db
from portal.jobs import declared_jobs
from tests.conftest import BACKEND
from tests.permits.test_desk import _accepted, _actions, _grant, _mails, _pay, _submitted

S = PermitState
BEFORE = date(2026, 5, 20)  # the permit (1 to 3 June 2026) is granted and paid before its first day


@pytest.fixture
def calendar(monkeypatch):
    """Berlin's today, set by the test."""
    days = {"today": BEFORE}
    monkeypatch.setattr(lifecycle, "today", lambda: days["today"])
    return days


def test_paid_before_its_first_day_the_permit_waits_and_the_job_puts_it_in_force_on_that_day(world, calendar):
    application = _grant(world, _accepted(world))
    _pay(application)
    assert application.state == S.PAID
    assert _actions(application)[-1] == "permits.fee_paid" and _mails("permits_active") == []

    assert lifecycle.run(date(2026, 5, 31)).activated == 0
    db.session.refresh(application)
    assert application.state == S.PAID

    report = lifecycle.run(date(2026, 6, 1))
    db.session.refresh(application)
    assert (report.activated, report.ended) == (1, 0)
    assert application.state == S.ACTIVE
    assert _actions(application)[-1] == "permits.permit_activated"
    assert len(_mails("permits_active")) == 1
    assert str(lifecycle.run(date(2026, 6, 2))) == "0 activated, 0 ended"  # idempotent: nothing twice


def test_the_job_ends_a_permit_the_day_after_its_last_day(world, calendar):
    application = _grant(world, _accepted(world))
    _pay(application)
    lifecycle.run(date(2026, 6, 1))
    assert lifecycle.run(date(2026, 6, 3)).ended == 0  # its last day: still in force
    report = lifecycle.run(date(2026, 6, 4))
    db.session.refresh(application)
    assert report.ended == 1 and application.state == S.ENDED
    assert _actions(application)[-1] == "permits.permit_ended"
    assert lifecycle.run(date(2026, 6, 5)).ended == 0


def test_paid_on_or_after_its_first_day_the_permit_is_in_force_at_once(world, calendar):
    calendar["today"] = date(2026, 6, 2)
    application = _grant(world, _accepted(world))
    _pay(application)
    assert application.state == S.ACTIVE
    assert _actions(application)[-2:] == ["permits.fee_paid", "permits.permit_activated"]


def test_an_exempt_permit_granted_early_waits_in_granted_and_starts_on_its_day(world, calendar):
    exempt = _submitted(world)
    exempt.fee_cents = 0
    db.session.commit()
    desk.accept(world.officer_actor, exempt)
    _grant(world, exempt)
    assert exempt.state == S.GRANTED and exempt.kassenzeichen is None
    assert lifecycle.run(date(2026, 6, 1)).activated == 1
    db.session.refresh(exempt)
    assert exempt.state == S.ACTIVE
    assert _mails("permits_active") == []  # that mail says "paid"; the decision's mail gave the dates


def test_a_granted_case_with_an_open_fee_is_never_activated_by_the_calendar(world, calendar):
    application = _grant(world, _accepted(world))
    assert application.state == S.FEE_NOTICE
    assert lifecycle.run(date(2026, 6, 2)).activated == 0
    db.session.refresh(application)
    assert application.state == S.FEE_NOTICE


def test_granting_the_extension_marks_the_original_extended(world, calendar):
    from permits.services import applications
    from tests.permits.builders import complete_data

    calendar["today"] = date(2026, 6, 1)
    original = _grant(world, _accepted(world))
    _pay(original)
    assert original.state == S.ACTIVE
    draft = extensions.request_extension(world.applicant_actor, original)
    applications.save_draft(world.applicant_actor, draft, complete_data(start=date(2026, 6, 4), end=date(2026, 6, 10)))
    extension = applications.submit(world.applicant_actor, draft, today=date(2026, 5, 4))
    desk.accept(world.officer_actor, extension)
    desk.grant(world.officer_actor, extension, desk.Grant(date(2026, 6, 4), date(2026, 6, 10)))
    db.session.refresh(original)
    assert original.state == S.EXTENDED
    assert _actions(original)[-1] == "permits.permit_extended"
    # The original still ends after its own last day; the extension carries on from the next.
    lifecycle.run(date(2026, 6, 4))
    db.session.refresh(original)
    assert original.state == S.ENDED


def test_the_job_is_declared_for_the_worker_and_the_cli_runs_it(app, world, calendar):
    assert "permits.lifecycle" in declared_jobs(app)
    application = _grant(world, _accepted(world))
    _pay(application)
    result = CliRunner().invoke(app.cli, ["permits", "lifecycle", "--on", "2026-06-01"], catch_exceptions=False)
    assert "1 activated, 0 ended" in result.output
    db.session.refresh(application)
    assert application.state == S.ACTIVE


@pytest.mark.skipif(BACKEND != "postgresql", reason="row locks are PostgreSQL's; SQLite has one writer anyway")
def test_a_case_another_worker_holds_is_skipped_and_moved_by_the_next_run(world, calendar):
    import sqlalchemy as sa

    application = _grant(world, _accepted(world))
    _pay(application)
    other = db.engine.connect()  # a second host's worker, in the middle of moving this case
    try:
        other.execute(sa.text("SELECT id FROM permit_application WHERE id = :id FOR UPDATE"), {"id": application.id})
        assert lifecycle.run(date(2026, 6, 1)).activated == 0  # skipped, not waited for
    finally:
        other.rollback()
        other.close()
    db.session.refresh(application)
    assert application.state == S.PAID
    assert lifecycle.run(date(2026, 6, 1)).activated == 1
