"""`flask audit verify` passes an intact chain and names the first broken seq of a tampered one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.audit.chain import event_payload, format_time
from portal.audit.verify import fast_payload
from portal.extensions import db
from tests.builders import make_user
from tests.portal.audit.helpers import record_events, tamper


def verify(runner, *args: str):
    return runner.invoke(args=["audit", "verify", "--quiet", *args])


def test_empty_trail_verifies(runner):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "Audit chain intact: 0 events checked" in result.stdout


def test_busy_trail_verifies_across_batch_boundaries(app, runner):
    # Several "writers" one after the other (SQLite); concurrent writers on PostgreSQL: test_concurrency.py.
    anna, ben = make_user("anna@example.org"), make_user("ben@example.org")
    for _round in range(3):
        record_events(7, subject=anna)
        record_events(5, subject=ben, action="account.logout")

    result = verify(runner, "--batch-size", "10")
    assert result.exit_code == 0, result.output
    assert "36 events checked" in result.stdout
    assert "last seq 36" in result.stdout


def test_altered_row_is_found_by_its_hash(app, runner):
    record_events(6)
    tamper("UPDATE audit_event SET outcome = 'failure' WHERE seq = 4")

    result = verify(runner)
    assert result.exit_code == 1
    assert "chain broken at seq 4: hash mismatch" in result.stderr
    assert "NOT intact" in result.stderr


def test_altered_details_are_found_even_across_a_batch_boundary(app, runner):
    record_events(6)
    tamper("""UPDATE audit_event SET details = '{"method":"oidc"}' WHERE seq = 5""")

    result = verify(runner, "--batch-size", "4")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "chain broken at seq 5: hash mismatch"


def test_altered_row_with_recomputed_hash_breaks_the_next_link(app, runner):
    record_events(6)
    tamper("UPDATE audit_event SET outcome = 'failure' WHERE seq = 3")
    from portal.audit.chain import hash_of
    from portal.audit.models import AuditEvent

    event = db.session.get(AuditEvent, 3)
    tamper("UPDATE audit_event SET hash = :h WHERE seq = 3", h=hash_of(event))

    result = verify(runner)
    assert result.exit_code == 1
    assert "chain broken at seq 4: prev_hash does not link to seq 3" in result.stderr


def test_deleted_row_shows_up_as_missing_seq(app, runner):
    record_events(8)
    tamper("DELETE FROM audit_event WHERE seq = 5")

    result = verify(runner)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "missing seq 5"


def test_deleted_first_rows_are_missing_from_seq_1(app, runner):
    record_events(4)
    tamper("DELETE FROM audit_event WHERE seq <= 2")

    result = verify(runner)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "missing seq 1 to 2"


def test_first_broken_seq_is_named_first_and_more_findings_on_request(app, runner):
    record_events(10)
    tamper("UPDATE audit_event SET ip = '198.51.100.9' WHERE seq = 7")
    tamper("DELETE FROM audit_event WHERE seq = 3")

    first = verify(runner)
    assert first.stderr.splitlines()[0] == "missing seq 3"

    every = verify(runner, "--max-problems", "10")
    findings = every.stderr.splitlines()[:-1]
    assert findings == ["missing seq 3", "chain broken at seq 7: hash mismatch"]


def test_renumbered_rows_after_a_deletion_do_not_hide_it(app, runner):
    record_events(5)
    tamper("DELETE FROM audit_event WHERE seq = 3")
    tamper("UPDATE audit_event SET seq = seq - 1 WHERE seq > 3")

    result = verify(runner)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "chain broken at seq 3: prev_hash does not link to seq 2"


def test_summary_names_events_checkpoints_and_rate(app, runner):
    record_events(3)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert result.stdout.startswith("Audit chain intact: 3 events checked, 0 checkpoints verified in ")
    assert "events/s" in result.stdout


def test_progress_goes_to_stderr_as_lines_when_not_on_a_terminal(capsys):
    from portal.audit.cli import _Progress

    progress = _Progress(total=40_000, quiet=False, every_seconds=0)
    progress(20_000)
    progress(20_000)
    progress.close()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == ["verified 20000 of about 40000 events", "verified 40000 of about 40000 events"]


def test_quiet_progress_says_nothing(capsys):
    from portal.audit.cli import _Progress

    progress = _Progress(total=10, quiet=True, every_seconds=0)
    progress(10)
    assert capsys.readouterr() == ("", "")


text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)
maybe_text = st.none() | text


@settings(max_examples=300, deadline=None)
@given(
    seq=st.integers(min_value=1, max_value=2**62),
    occurred_at=st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)),
    actor_type=text,
    actor_id=maybe_text,
    on_behalf_of=maybe_text,
    action=text,
    target_type=maybe_text,
    target_id=maybe_text,
    subject_user_id=st.none() | st.integers(min_value=-(2**31), max_value=2**31),
    details=text,
    request_id=maybe_text,
    ip=maybe_text,
    outcome=text,
)
def test_fast_payload_is_byte_for_byte_the_writers_canonical_json(**fields):
    expected = event_payload(**fields)
    fields["occurred_at"] = format_time(fields["occurred_at"])
    assert fast_payload(**fields) == expected


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),  # the last microsecond before summer time
        datetime(2026, 10, 25, 1, 0, 0, 0, tzinfo=UTC),  # whole second: format_time still writes .000000
        datetime(2026, 7, 1, 12, 0, 0, 1, tzinfo=UTC),
    ],
)
def test_events_at_awkward_moments_verify(app, runner, monkeypatch, moment):
    # On PostgreSQL the verifier formats the time in SQL; it must agree with the writer to the microsecond.
    monkeypatch.setattr("portal.audit.services.utcnow", lambda: moment)
    record_events(2)

    result = verify(runner)
    assert result.exit_code == 0, result.output
