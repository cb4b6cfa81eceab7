"""Delivering the outbox over SMTP: claim a message, send it, record the outcome — one message at a time.

Guarantees and their limits:
- A message is claimed (status 'sending', committed) before it is handed to the SMTP server, so two workers
  running side by side never both send it. On PostgreSQL the candidate row is locked with
  SELECT ... FOR UPDATE SKIP LOCKED; on both databases the claim is a conditional
  UPDATE ... WHERE status = 'pending' whose row count tells whether this worker won it.
- While a message is 'sending', next_attempt_at holds the end of the claim's lease (SENDING_LEASE). A worker
  that died after claiming leaves the row in 'sending'; once the lease is over the next run puts it back to
  'pending'. That makes delivery *at least once*, not exactly once: if the worker died after the SMTP server
  accepted the message but before 'sent' was committed, the mail goes out a second time. We prefer a rare
  duplicate to a lost verification link; the Message-ID fixed at enqueue time lets receivers (and their
  mail clients) recognise the duplicate. The SMTP timeout is far below the lease, so a slow but living
  worker never loses its claim.
- Failures are retried with exponential backoff (1, 2, 4, ... minutes, capped at BACKOFF_CAP); after
  MAIL_MAX_ATTEMPTS attempts, or at once on a permanent (5xx) refusal, the message is 'failed'.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import sqlalchemy as sa
from flask import current_app

from portal.extensions import db
from portal.inputs import single_line
from portal.mail.models import OutboxMessage
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

SENDING_LEASE = timedelta(minutes=10)
BACKOFF_CAP = timedelta(hours=1)
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_TIMEOUT_SECONDS = 30
PENDING_STATES = ("pending", "sending")

# Outcomes reported per message (and counted in DeliveryReport).
SENT, RETRY, FAILED = "sent", "retry", "failed"


class MailNotConfiguredError(RuntimeError):
    """MAIL_SERVER is empty: there is nowhere to deliver to, so nothing is touched."""


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    reclaimed: int = 0
    # Set when the SMTP server could not be reached at all during this batch.
    connection_error: str | None = None
    outcomes: list[tuple[int, str]] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.failed

    def count(self, message_id: int, outcome: str) -> None:
        self.outcomes.append((message_id, outcome))
        if outcome == SENT:
            self.sent += 1
        elif outcome == RETRY:
            self.retried += 1
        else:
            self.failed += 1


class _PermanentFailureError(Exception):
    """Retrying cannot help (the server refused with a 5xx code, or the message cannot be built)."""


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, ... minutes, at most BACKOFF_CAP."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def outbox_backlog() -> int:
    """Messages not yet delivered nor given up (pending + sending), for the /metrics gauge."""
    return (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(PENDING_STATES))
        )
        or 0
    )


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def build_message(message: OutboxMessage) -> EmailMessage:
    """The MIME message: text (+ HTML alternative) (+ attachments), with the stored Message-ID."""
    config = current_app.config
    mime = EmailMessage()
    mime["From"] = config["MAIL_DEFAULT_SENDER"]
    mime["To"] = message.recipient
    mime["Subject"] = single_line(message.subject)  # also for messages stored before names refused line breaks
    # The time the portal wrote the mail, not the time of this attempt: a retry is the same message.
    mime["Date"] = format_datetime(message.created_at)
    mime["Message-ID"] = message.message_id
    # RFC 3834: tells vacation responders and auto-forwarders not to answer.
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(message.body_text)
    if message.body_html:
        mime.add_alternative(message.body_html, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    # Last: set_content() and the switch to multipart clear or move every Content-* header of the top part.
    mime["Content-Language"] = message.language
    return mime


def _connect() -> smtplib.SMTP:
    config = current_app.config
    timeout = config.get("MAIL_TIMEOUT", DEFAULT_TIMEOUT_SECONDS)
    smtp = smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25), timeout=timeout)
    try:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
    except BaseException:
        _close(smtp)
        raise
    return smtp


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _send(smtp: smtplib.SMTP, mime: EmailMessage, recipient: str) -> None:
    sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    try:
        refused = smtp.send_message(mime, from_addr=sender, to_addrs=[recipient])
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise _PermanentFailureError(_describe(error)) from error
        raise
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        if error.smtp_code >= 500:
            raise _PermanentFailureError(_describe(error)) from error
        raise
    if refused:  # only possible with several recipients; we always send to one
        raise smtplib.SMTPRecipientsRefused(refused)


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{error.smtp_code} {text}"[:1000]
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in error.recipients.values()
        )[:1000]
    return (f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)[:1000]


def _max_attempts() -> int:
    return int(current_app.config.get("MAIL_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)


def _reclaim_abandoned(now: datetime) -> int:
    """Put messages whose claim expired back in the queue; the lost attempt counts, so a message that keeps
    killing its worker ends as 'failed' instead of looping forever."""
    rows = db.session.execute(
        sa.select(OutboxMessage.id, OutboxMessage.attempts).where(
            OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= now
        )
    ).all()
    reclaimed = 0
    for row in rows:
        attempts = row.attempts + 1
        result = db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= now)
            .values(
                status="failed" if attempts >= _max_attempts() else "pending",
                attempts=attempts,
                next_attempt_at=now,
                last_error="Zustellung unterbrochen: der Versand-Prozess hat nicht zurückgemeldet.",
            )
            .execution_options(synchronize_session=False)
        )
        reclaimed += result.rowcount  # type: ignore[attr-defined]
    db.session.commit()
    return reclaimed


def _claim_next(now: datetime) -> OutboxMessage | None:
    """Claim the next due message for this worker, or None when nothing is due (or others hold the rest)."""
    while True:
        candidate = db.session.scalar(
            sa.select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            # PostgreSQL: skip rows another worker is claiming right now. SQLite ignores this and relies
            # on the conditional UPDATE below.
            .with_for_update(skip_locked=True)
        )
        if candidate is None:
            db.session.commit()
            return None
        result = db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == candidate, OutboxMessage.status == "pending")
            .values(status="sending", next_attempt_at=now + SENDING_LEASE)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if result.rowcount == 1:  # type: ignore[attr-defined]
            message = db.session.get(OutboxMessage, candidate, populate_existing=True)
            if message is not None:
                return message
        # Another worker won this one between our SELECT and UPDATE: look for the next.


def _record_sent(message_id: int, now: datetime) -> None:
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
        .values(status="sent", sent_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _record_failure(message: OutboxMessage, now: datetime, error: str, *, permanent: bool) -> str:
    attempts = message.attempts + 1
    gave_up = permanent or attempts >= _max_attempts()
    message_id = message.id
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
        .values(
            status="failed" if gave_up else "pending",
            attempts=attempts,
            next_attempt_at=now if gave_up else now + backoff(attempts),
            last_error=error,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    log.warning(
        "outbox message %s: attempt %s failed%s: %s",
        message_id,
        attempts,
        " permanently" if gave_up else "",
        error,
        extra={"outbox_message_id": message_id, "attempts": attempts},
    )
    return FAILED if gave_up else RETRY


def deliver_pending(
    limit: int | None = None,
    now: datetime | None = None,
    *,
    on_progress: Callable[[int, str], None] | None = None,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Send every due pending message (at most `limit`) over one SMTP connection and record each outcome.

    `now` is the clock for due dates and backoff (tests move it forward). `on_progress(message_pk, outcome)` is
    called after each message; `stop` is checked between messages so a worker can shut down without
    leaving a claim behind. Raises MailNotConfiguredError, without touching any row, if MAIL_SERVER is empty.
    Commits as it goes (each claim and each outcome): call it from a worker, never inside a use case's
    transaction.
    """
    if not mail_configured():
        raise MailNotConfiguredError("MAIL_SERVER ist nicht gesetzt.")

    def clock() -> datetime:
        # Read the real clock per message: a claim's lease must start when the claim is made, even late
        # in a long batch.
        return now if now is not None else utcnow()

    report = DeliveryReport(reclaimed=_reclaim_abandoned(clock()))
    smtp: smtplib.SMTP | None = None
    try:
        while limit is None or report.attempted < limit:
            if stop is not None and stop.is_set():
                break
            claimed_at = clock()
            message = _claim_next(claimed_at)
            if message is None:
                break
            message_pk = message.id
            outcome, smtp = _deliver_one(message, claimed_at, report, smtp)
            report.count(message_pk, outcome)
            if on_progress is not None:
                on_progress(message_pk, outcome)
    finally:
        _close(smtp)
    return report


def _deliver_one(
    message: OutboxMessage, now: datetime, report: DeliveryReport, smtp: smtplib.SMTP | None
) -> tuple[str, smtplib.SMTP | None]:
    """Send one claimed message; returns its outcome and the connection to reuse for the next one."""
    try:
        mime = build_message(message)
    except (ValueError, TypeError, LookupError) as error:
        return _record_failure(message, now, f"Nachricht ungültig: {error}"[:1000], permanent=True), smtp
    if report.connection_error is not None:
        # The server was unreachable earlier in this batch: every due message counts this failed attempt
        # instead of waiting for one connection timeout each.
        return _record_failure(message, now, report.connection_error, permanent=False), None
    if smtp is None:
        try:
            smtp = _connect()
        except (smtplib.SMTPException, OSError) as error:
            report.connection_error = f"SMTP-Server nicht erreichbar: {_describe(error)}"[:1000]
            return _record_failure(message, now, report.connection_error, permanent=False), None
    try:
        _send(smtp, mime, message.recipient)
    except _PermanentFailureError as error:
        smtp = _reset(smtp)
        return _record_failure(message, now, str(error), permanent=True), smtp
    # SMTPException is an OSError: the order of these clauses matters.
    except smtplib.SMTPServerDisconnected as error:
        _close(smtp)  # the next message opens a new connection
        return _record_failure(message, now, _describe(error), permanent=False), None
    except smtplib.SMTPException as error:
        smtp = _reset(smtp)
        return _record_failure(message, now, _describe(error), permanent=False), smtp
    except OSError as error:  # the socket broke or timed out mid-message
        _close(smtp)
        return _record_failure(message, now, _describe(error), permanent=False), None
    message_pk = message.id
    _record_sent(message_pk, now)
    log.info("outbox message %s sent", message_pk, extra={"outbox_message_id": message_pk})
    return SENT, smtp


def _reset(smtp: smtplib.SMTP) -> smtplib.SMTP | None:
    """After a refused transaction, RSET so the connection can carry the next message (or drop it)."""
    try:
        smtp.rset()
    except (smtplib.SMTPException, OSError):
        _close(smtp)
        return None
    return smtp
