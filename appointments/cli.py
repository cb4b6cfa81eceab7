"""`flask appointments ...`: operator commands (release unconfirmed bookings, reminders, waitlist offers)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup

appointments_cli = AppGroup("appointments", help="Appointments: jobs and maintenance.")


@appointments_cli.command("release-expired")
def release_expired_command() -> None:
    """Release bookings not confirmed in time (and waitlist offers past their deadline); run it every minute."""
    from appointments.services.booking import release_expired

    def report(booking) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"released {booking.reference} ({booking.starts_at:%Y-%m-%d %H:%M} UTC)")

    count = release_expired(progress=report)
    click.echo(f"{count} booking(s) released.")


@appointments_cli.command("waitlist")
def waitlist_command() -> None:
    """Offer free slots to waiting entries now (after capacity was added; or every few minutes)."""
    from appointments.services import waitlist  # noqa: F401  (subscribes the waitlist to freed seats)
    from appointments.services.waitlist_offers import run

    summary = run(progress=click.echo)
    click.echo(
        f"{len(summary.offered)} offer(s) made, {summary.lapsed} unanswered offer(s) settled, "
        f"{summary.expired} entr(y/ies) expired, {summary.released} hold(s) released, {summary.waiting} still waiting."
    )


@appointments_cli.command("send-reminders")
def send_reminders_command() -> None:
    """Mail a reminder before each confirmed booking (once each); run it every few minutes."""
    from appointments.services.reminders import send_reminders

    def report(booking) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"reminded {booking.reference} ({booking.starts_at:%Y-%m-%d %H:%M} UTC)")

    count = send_reminders(progress=report)
    click.echo(f"{count} reminder(s) sent.")


def declare_jobs(app: Flask) -> None:
    """What the worker (`flask worker`) does for appointments, at the intervals the commands above advise."""
    from appointments.services import waitlist  # noqa: F401  (subscribes the waitlist to freed seats)
    from appointments.services.booking import release_expired
    from appointments.services.reminders import send_reminders
    from appointments.services.waitlist_offers import run as offer_waitlist
    from portal.jobs import Job, declare_job

    declare_job(app, Job("appointments.release-expired", timedelta(minutes=1), release_expired, "appointments"))
    declare_job(app, Job("appointments.waitlist", timedelta(minutes=5), offer_waitlist, "appointments"))
    declare_job(app, Job("appointments.send-reminders", timedelta(minutes=15), send_reminders, "appointments"))
