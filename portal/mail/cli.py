"""`flask outbox send` (deliver what is due, once) and `flask outbox run` (the delivery worker process).

Exit codes of `send`, for cron jobs and monitoring:
  0  the batch ran; messages that failed were rescheduled or given up and are visible in the admin page.
     A refused or failed message is not an operator error, so it does not fail the command.
  1  the SMTP server could not be reached while messages were due: an outage someone should look at.
  2  MAIL_SERVER is not configured; no row was changed.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click
from flask import Flask
from flask.cli import AppGroup

from portal.extensions import db
from portal.mail.delivery import FAILED, RETRY, SENT, DeliveryReport, MailNotConfiguredError, deliver_pending

log = logging.getLogger(__name__)

outbox = AppGroup("outbox", help="Den Postausgang zustellen (SMTP).")

_LABELS = {SENT: "gesendet", RETRY: "erneut geplant", FAILED: "endgültig fehlgeschlagen"}
NOT_CONFIGURED = (
    "MAIL_SERVER ist nicht gesetzt: es wird nichts zugestellt. Nachrichten stehen unter /admin/postausgang."
)


def summary(report: DeliveryReport) -> str:
    return f"{report.sent} gesendet, {report.retried} erneut geplant, {report.failed} endgültig fehlgeschlagen"


def _progress(message_pk: int, outcome: str) -> None:
    click.echo(f"  Nachricht {message_pk}: {_LABELS.get(outcome, outcome)}")


@outbox.command("send")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Höchstens so viele Nachrichten senden.")
def send_command(limit: int | None) -> None:
    """Alle fälligen Nachrichten einmal zustellen und eine Zusammenfassung ausgeben.

    \b
    Exit-Status: 0 = Lauf erledigt (auch wenn Nachrichten erneut geplant wurden),
    1 = SMTP-Server nicht erreichbar, obwohl Nachrichten fällig waren,
    2 = MAIL_SERVER nicht gesetzt (nichts verändert).
    """
    try:
        report = deliver_pending(limit=limit, on_progress=_progress)
    except MailNotConfiguredError:
        click.echo(NOT_CONFIGURED, err=True)
        raise SystemExit(2) from None
    if report.reclaimed:
        click.echo(f"{report.reclaimed} abgebrochene Zustellung(en) wieder eingeplant.")
    click.echo(summary(report))
    if report.connection_error is not None:
        click.echo(report.connection_error, err=True)
        raise SystemExit(1)


@outbox.command("run")
@click.option(
    "--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True, help="Sekunden zwischen zwei Läufen."
)
def run_command(interval: float) -> None:
    """Fortlaufend zustellen (der Versand-Prozess). Endet sauber bei SIGTERM oder Strg+C."""
    from portal.mail.delivery import mail_configured

    if not mail_configured():
        click.echo(NOT_CONFIGURED, err=True)
        raise SystemExit(2)
    stop = threading.Event()

    def _request_stop(signum: int, frame: FrameType | None) -> None:
        # Only set a flag: the message being sent is finished and recorded, then the loop ends.
        stop.set()

    previous = {sig: signal.signal(sig, _request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    click.echo(f"Postausgang: Zustellung alle {interval:g} s gestartet.")
    try:
        while not stop.is_set():
            try:
                report = deliver_pending(on_progress=_progress, stop=stop)
                if report.attempted or report.reclaimed:
                    click.echo(summary(report))
            except MailNotConfiguredError:
                raise
            except Exception:
                # A worker must outlive a database restart or a bad batch; the next round tries again.
                log.exception("outbox delivery round failed")
            finally:
                db.session.remove()
            stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("Postausgang: beendet.")


def init_app(app: Flask) -> None:
    app.cli.add_command(outbox)
