"""Delivery over real SMTP: what arrives, what is retried, and that nothing goes out twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext

from portal.extensions import db
from portal.mail.delivery import MailNotConfiguredError, backoff, deliver_pending, outbox_backlog
from portal.mail.models import OutboxMessage
from portal.mail.services import Attachment, enqueue
from portal.timeutil import utcnow
from portal.transaction import transaction
from tests.portal.mail.conftest import closed_port, enqueue_committed, outbox_rows


def test_committed_message_arrives_with_text_html_and_headers(runner, smtp_server):
    message_pk = enqueue_committed("anna@example.org", "Bitte bestätigen Sie Ihre Adresse")
    stored = db.session.get(OutboxMessage, message_pk)

    result = runner.invoke(args=["outbox", "send"])

    assert result.exit_code == 0, result.output
    assert "1 gesendet, 0 erneut geplant, 0 endgültig fehlgeschlagen" in result.output
    [mail] = smtp_server.messages
    assert mail["To"] == "anna@example.org"
    assert mail["X-Envelope-To"] == "anna@example.org"
    assert mail["From"] == "Stadtportal <noreply@stadtportal.example>"
    assert mail["Subject"] == "Bitte bestätigen Sie Ihre Adresse"
    assert mail["Message-ID"] == stored.message_id
    assert mail["Content-Language"] == "de"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Date"]
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Hallo Anna, bitte bestätigen Sie: https://stadtportal.example/bestaetigen/abc123" in text
    assert text.startswith("Stadtportal")
    assert "Diese Nachricht wurde automatisch erstellt." in text
    assert '<a href="https://stadtportal.example/bestaetigen/abc123">' in html
    assert "Diese Nachricht wurde automatisch erstellt." in html
    [row] = outbox_rows()
    assert row.status == "sent"
    assert row.sent_at is not None
    assert row.attempts == 0


def test_text_only_message_is_a_single_plain_part(runner, smtp_server):
    enqueue_committed(template="test_plain", name="Bernd")

    runner.invoke(args=["outbox", "send"])

    [mail] = smtp_server.messages
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content().strip() == "Nur Text für Bernd."


def test_attachments_arrive_with_filename_and_content_type(runner, smtp_server):
    pdf = b"%PDF-1.7 kleine Rechnung"
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    enqueue_committed(
        attachments=(
            Attachment("rechnung.pdf", "application/pdf", pdf),
            Attachment("termin.ics", "text/calendar", ics),
        )
    )

    runner.invoke(args=["outbox", "send"])

    [mail] = smtp_server.messages
    assert mail.get_content_type() == "multipart/mixed"
    # The readable body is still there, as text and HTML alternatives.
    assert "Hallo Anna" in mail.get_body(preferencelist=("plain",)).get_content()
    assert mail.get_body(preferencelist=("html",)) is not None
    parts = {part.get_filename(): part for part in mail.iter_attachments()}
    assert set(parts) == {"rechnung.pdf", "termin.ics"}
    assert parts["rechnung.pdf"].get_content_type() == "application/pdf"
    assert parts["rechnung.pdf"].get_content() == pdf
    assert parts["termin.ics"].get_content_type() == "text/calendar"
    assert parts["termin.ics"].get_payload(decode=True) == ics


def test_english_recipient_gets_the_english_text_and_content_language(runner, smtp_server):
    enqueue_committed("john@example.org", lazy_gettext("Bitte bestätigen Sie Ihre Adresse"), language="en")

    runner.invoke(args=["outbox", "send"])

    [mail] = smtp_server.messages
    assert mail["Content-Language"] == "en"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Anna, please confirm" in text
    assert "Hallo" not in text
    assert 'lang="en"' in mail.get_body(preferencelist=("html",)).get_content()


def test_message_enqueued_in_a_rolled_back_transaction_is_never_sent(runner, smtp_server):
    with pytest.raises(RuntimeError), transaction():
        enqueue("anna@example.org", "Wird nie gesendet", "test_hello", name="Anna", link="x")
        raise RuntimeError("the use case failed after writing its mail")

    result = runner.invoke(args=["outbox", "send"])

    assert outbox_rows() == []
    assert "0 gesendet" in result.output
    assert smtp_server.messages == []


def test_sending_twice_delivers_once(runner, smtp_server):
    enqueue_committed("anna@example.org")
    enqueue_committed("bernd@example.org")

    first = runner.invoke(args=["outbox", "send"])
    second = runner.invoke(args=["outbox", "send"])

    assert "2 gesendet" in first.output
    assert "0 gesendet, 0 erneut geplant, 0 endgültig fehlgeschlagen" in second.output
    assert sorted(m["To"] for m in smtp_server.messages) == ["anna@example.org", "bernd@example.org"]


def test_send_prints_progress_per_message(runner, smtp_server):
    first = enqueue_committed("anna@example.org")
    second = enqueue_committed("bernd@example.org")

    result = runner.invoke(args=["outbox", "send"])

    assert f"Nachricht {first}: gesendet" in result.output
    assert f"Nachricht {second}: gesendet" in result.output


def test_limit_sends_only_that_many_oldest_first(app, smtp_server):
    for name in ("a", "b", "c"):
        enqueue_committed(f"{name}@example.org")

    report = deliver_pending(limit=2)

    assert report.sent == 2
    assert [m["To"] for m in smtp_server.messages] == ["a@example.org", "b@example.org"]
    assert [row.status for row in outbox_rows()] == ["sent", "sent", "pending"]


def test_unreachable_server_keeps_message_pending_with_backoff(app, runner, smtp_server):
    enqueue_committed()
    app.config["MAIL_PORT"] = closed_port()
    before = utcnow()

    result = runner.invoke(args=["outbox", "send"])

    assert result.exit_code == 1
    assert "0 gesendet, 1 erneut geplant, 0 endgültig fehlgeschlagen" in result.output
    assert "SMTP-Server nicht erreichbar" in result.output
    [row] = outbox_rows()
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.next_attempt_at >= before + timedelta(minutes=1)
    assert "SMTP-Server nicht erreichbar" in row.last_error
    # Not due yet: an immediate second run leaves it alone.
    assert deliver_pending().attempted == 0
    assert outbox_rows()[0].attempts == 1


def test_every_due_message_counts_the_failed_attempt_when_the_server_is_down(app, smtp_server):
    enqueue_committed("a@example.org")
    enqueue_committed("b@example.org")
    app.config["MAIL_PORT"] = closed_port()

    report = deliver_pending()

    assert report.retried == 2
    assert [row.attempts for row in outbox_rows()] == [1, 1]


def test_message_fails_for_good_after_max_attempts(app, smtp_server):
    enqueue_committed()
    app.config["MAIL_PORT"] = closed_port()  # MAIL_MAX_ATTEMPTS is 3 in these tests
    now = utcnow()

    outcomes = []
    for _ in range(3):
        report = deliver_pending(now=now)
        outcomes.append((report.retried, report.failed))
        now = outbox_rows()[0].next_attempt_at

    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    [row] = outbox_rows()
    assert row.status == "failed"
    assert row.attempts == 3
    # A failed message is never tried again.
    assert deliver_pending(now=now + timedelta(days=1)).attempted == 0


def test_backoff_doubles_and_is_capped():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(30) == timedelta(hours=1)


def test_message_is_delivered_once_the_server_is_back(app, smtp_server):
    enqueue_committed()
    real_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = closed_port()
    deliver_pending()
    app.config["MAIL_PORT"] = real_port

    report = deliver_pending(now=utcnow() + timedelta(minutes=2))

    assert report.sent == 1
    assert len(smtp_server.messages) == 1
    [row] = outbox_rows()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)


def test_without_mail_server_send_refuses_and_changes_nothing(app, runner, smtp_server):
    enqueue_committed()
    app.config["MAIL_SERVER"] = ""

    result = runner.invoke(args=["outbox", "send"])

    assert result.exit_code == 2
    assert "MAIL_SERVER ist nicht gesetzt" in result.output
    [row] = outbox_rows()
    assert (row.status, row.attempts) == ("pending", 0)
    with pytest.raises(MailNotConfiguredError):
        deliver_pending()


def test_message_claimed_by_another_worker_is_not_sent_again(app, smtp_server):
    message_pk = enqueue_committed()
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_pk)
        .values(status="sending", next_attempt_at=utcnow() + timedelta(minutes=10))
    )
    db.session.commit()

    assert deliver_pending().attempted == 0
    assert smtp_server.messages == []


def test_message_of_a_dead_worker_is_reclaimed_after_ten_minutes(app, smtp_server):
    message_pk = enqueue_committed()
    claimed_at = utcnow()
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_pk)
        .values(status="sending", next_attempt_at=claimed_at + timedelta(minutes=10))
    )
    db.session.commit()

    assert deliver_pending(now=claimed_at + timedelta(minutes=9)).attempted == 0
    report = deliver_pending(now=claimed_at + timedelta(minutes=11))

    assert (report.reclaimed, report.sent) == (1, 1)
    assert len(smtp_server.messages) == 1
    [row] = outbox_rows()
    assert (row.status, row.attempts) == ("sent", 1)


def test_two_workers_at_once_deliver_each_message_once(app, smtp_server):
    recipients = [f"person{n}@example.org" for n in range(12)]
    for recipient in recipients:
        enqueue_committed(recipient)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            with app.app_context():
                start.wait()
                deliver_pending()
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(recipients)
    assert {row.status for row in outbox_rows()} == {"sent"}


def test_backlog_counts_pending_and_sending_messages(app, smtp_server):
    enqueue_committed("a@example.org")
    enqueue_committed("b@example.org")
    assert outbox_backlog() == 2

    deliver_pending(limit=1)

    assert outbox_backlog() == 1
