"""Appointments' part of "Meine Daten" and of deleting an account (the GDPR hooks of portal.gdpr).

The rules live in appointments.services.gdpr; this module registers them and words them for the citizen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, pgettext

from appointments.services import gdpr as rules
from appointments.services.events import on_seats_freed
from portal.gdpr import ErasureOutcome, register_erasure_handler, register_export_section, text, when
from portal.pdf import Block, Heading, KeyValues, Table

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.actors import Actor

STATUS_TEXTS: dict[str, Any] = {
    "reserved": _l("reserviert, noch nicht bestätigt"),
    "confirmed": _l("bestätigt"),
    "offered": _l("von der Warteliste angeboten"),
    "cancelled": _l("abgesagt"),
    "released": _l("freigegeben (nicht bestätigt)"),
    "checked_in": _l("angemeldet am Schalter"),
    "called": _l("aufgerufen"),
    "served": _l("erledigt"),
    "no_show": _l("nicht erschienen"),
}
WAITLIST_STATUS_TEXTS: dict[str, Any] = {
    "waiting": _l("wartet"),
    "offered": _l("Termin angeboten"),
    "booked": _l("Termin gebucht"),
    "expired": _l("abgelaufen"),
    "cancelled": _l("beendet"),
}


def collect(user: User) -> dict[str, Any]:
    return rules.export_of_user(user.id)


def _services(items: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{item['quantity']} × {item['name']}" if item["quantity"] > 1 else str(item["name"]) for item in items
    )


def summary(data: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    for booking in data["bookings"]:
        blocks.append(Heading(_("Termin %(reference)s", reference=booking["reference"]), level=3))
        rows = [
            (_("Status"), str(STATUS_TEXTS.get(booking["status"], booking["status"]))),
            (_("Zeit"), _time_range(booking["starts_at"], booking["ends_at"])),
            (pgettext("appointment location", "Ort"), text(booking["location"]["name"])),
            (_("Leistungen"), _services(booking["services"])),
            (_("Name"), text(booking["name"])),
            (_("E-Mail-Adresse"), text(booking["email"])),
            (_("Telefon"), text(booking["phone"])),
            (_("Gebucht am"), when(booking["created_at"])),
        ]
        if booking["cancelled_at"]:
            rows.append((_("Abgesagt am"), when(booking["cancelled_at"])))
        blocks.append(KeyValues(rows))
    if data["waitlist"]:
        blocks.append(Heading(_("Wartelisten"), level=3))
        blocks.append(
            Table(
                [_("Leistungen"), _("Standorte"), _("Zeitraum"), _("Status"), _("Eingetragen am")],
                [
                    [
                        _services(entry["services"]),
                        text(entry["locations"]),
                        f"{_day(entry['first_day'])} – {_day(entry['last_day'])}",
                        str(WAITLIST_STATUS_TEXTS.get(entry["status"], entry["status"])),
                        when(entry["created_at"]),
                    ]
                    for entry in data["waitlist"]
                ],
            )
        )
    if data["calendar_feeds"]:
        blocks.append(Heading(_("Kalender-Abonnements"), level=3))
        blocks.append(
            Table(
                [_("Standort"), _("Mit Namen"), _("Angelegt am"), _("Zuletzt abgerufen"), _("Beendet am")],
                [
                    [
                        text(feed["location"]),
                        text(feed["show_names"]),
                        when(feed["created_at"]),
                        when(feed["last_fetched_at"]),
                        when(feed["revoked_at"]),
                    ]
                    for feed in data["calendar_feeds"]
                ],
            )
        )
    return blocks


def _time_range(starts: str, ends: str) -> str:
    """E.g. "02.12.2026, 09:00 – 09:15": the end only as a time (appointments end on the day they start)."""
    return f"{when(starts)} – {when(ends).rsplit(', ', 1)[-1]}"


def _day(iso_day: str) -> str:
    year, month, day = iso_day.split("-")
    return f"{day}.{month}.{year}"


def preview(user: User) -> list[str]:
    plan = rules.erasure_plan(user.id)
    lines = []
    if plan.to_cancel:
        lines.append(
            ngettext(
                "%(num)d offener Termin wird abgesagt. Sie erhalten dazu eine Absage per E-Mail, mit der der Termin "
                "auch aus Ihrem Kalender verschwindet.",
                "%(num)d offene Termine werden abgesagt. Sie erhalten zu jedem eine Absage per E-Mail, mit der der "
                "Termin auch aus Ihrem Kalender verschwindet.",
                plan.to_cancel,
            )
        )
    else:
        lines.append(_("Sie haben mit diesem Konto keine offenen Termine."))
    # Said whether or not there are any: bookings made without signing in are not the account's.
    lines.append(
        _(
            "Termine, die Sie ohne Anmeldung gebucht haben, bleiben bestehen: Sie verwalten oder sagen sie weiter "
            "über den Link in der Bestätigungs-E-Mail ab."
        )
    )
    if plan.to_pseudonymise:
        lines.append(
            ngettext(
                "%(num)d Termin bleibt für die Statistik der Ämter erhalten (Zeit, Ort, Leistungen), aber ohne Ihren "
                "Namen, Ihre E-Mail-Adresse und Telefonnummer.",
                "%(num)d Termine (auch vergangene und abgesagte) bleiben für die Statistik der Ämter erhalten (Zeit, "
                "Ort, Leistungen), aber ohne Ihren Namen, Ihre E-Mail-Adresse und Telefonnummer.",
                plan.to_pseudonymise,
            )
        )
    if plan.waitlist_entries:
        lines.append(
            ngettext(
                "Sie werden von %(num)d Warteliste für Termine genommen.",
                "Sie werden von %(num)d Wartelisten für Termine genommen.",
                plan.waitlist_entries,
            )
        )
    if plan.feeds:
        lines.append(
            ngettext(
                "%(num)d Kalender-Abonnement für Termine wird beendet.",
                "%(num)d Kalender-Abonnements für Termine werden beendet.",
                plan.feeds,
            )
        )
    return lines


def erase(actor: Actor, user: User) -> ErasureOutcome:
    erased = rules.erase_for_account(actor, user.id)
    parts = []
    if erased.cancelled:
        parts.append(ngettext("%(num)d Termin abgesagt", "%(num)d Termine abgesagt", len(erased.cancelled)))
    if erased.pseudonymised:
        parts.append(ngettext("%(num)d Termin anonymisiert", "%(num)d Termine anonymisiert", erased.pseudonymised))
    if erased.waitlist_removed:
        parts.append(
            ngettext(
                "%(num)d Wartelisten-Eintrag gelöscht", "%(num)d Wartelisten-Einträge gelöscht", erased.waitlist_removed
            )
        )
    freed = dict(erased.freed)

    def announce_freed_seats() -> None:
        # The waitlist hears of the seats only once the deletion is committed, as after any cancellation.
        for location_id, units in freed.items():
            on_seats_freed(location_id, sorted(units))

    return ErasureOutcome(
        description=_("Termine: %(what)s.", what=", ".join(parts)) if parts else "",
        details={
            "cancelled": erased.cancelled,
            "pseudonymised": erased.pseudonymised,
            "waitlist_removed": erased.waitlist_removed,
            "feeds_revoked": erased.feeds_revoked,
        },
        after_commit=[announce_freed_seats],
    )


def register(app: Flask) -> None:
    register_export_section(app, "appointments", _l("Termine"), collect, summary)
    register_erasure_handler(app, "appointments", erase, preview)
