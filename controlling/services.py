"""The controlling dashboard of the Hauptamt/IT-Koordination: figures of every switched-on service per month.

    dashboard(actor, date(2026, 1, 1), date(2026, 12, 1)) -> Dashboard(sections=[Section, ...])

Each service computes its own figures (`<service>.services.figures`, aggregate SQL, a fixed number of statements
whatever the data); this module only asks them, checks who may look, and shapes sections for the page and the CSV.
Only anonymous counts leave the services: no names, no case references.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden

from controlling.charts import Chart, layout
from portal.actors import Actor
from portal.inputs import MAX_YEAR as LAST_YEAR
from portal.inputs import MIN_YEAR as FIRST_YEAR
from portal.reporting import MAX_MONTHS, Month, month_range
from portal.spreadsheets import formula_safe
from portal.timeutil import to_berlin, utcnow

ROLE = "controlling"
# Who may see the figures: the IT coordination, and the platform's administrators.
VIEWER_ROLES = (ROLE, "platform_admin")
DEFAULT_MONTHS = 12


class PeriodError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "count"  # count, percent (0..1), days, hours
    charted: bool = True


@dataclass
class Section:
    key: str
    title: str
    explanation: str
    columns: list[Column]
    rows: list[tuple[Month, dict[str, float | None]]]
    stacked: bool = True
    chart: Chart | None = None


@dataclass
class Dashboard:
    months: list[Month]
    sections: list[Section] = field(default_factory=list)


def may_view(actor: Actor) -> bool:
    return any(actor.has_role(role) for role in VIEWER_ROLES)


def period(first: str | None, last: str | None, today: date | None = None) -> tuple[date, date]:
    """The months asked for ("YYYY-MM" each), by default the last twelve including this one."""
    today = today or to_berlin(utcnow()).date()
    end = _month(last, "bis") if last else date(today.year, today.month, 1)
    if first:
        start = _month(first, "von")
    else:
        back = end.year * 12 + end.month - 1 - (DEFAULT_MONTHS - 1)
        start = date(back // 12, back % 12 + 1, 1)
    if start > end:
        raise PeriodError("von", _("Der erste Monat liegt nach dem letzten."))
    if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
        raise PeriodError("von", _("Wählen Sie höchstens %(n)s Monate.", n=MAX_MONTHS))
    return start, end


def _month(text: str, name: str) -> date:
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(year)  # also keeps the default start (a year back) within the calendar
        return date(year, month, 1)
    except ValueError:
        raise PeriodError(name, _("Geben Sie einen Monat wie 2026-03 an.")) from None


def dashboard(actor: Actor, first: date, last: date) -> Dashboard:
    """The figures of the months from `first` to `last` (their days do not matter), for a person who may see them."""
    if not may_view(actor):
        raise Forbidden()
    months = month_range(first, last)
    board = Dashboard(months)
    services = current_app.config["SERVICES"]
    figures = {name: fetch(months) for name, fetch, _build in SOURCES if name in services}
    applications = _applications(months, figures)
    if applications is not None:
        board.sections.append(applications)
    for name, _fetch, build in SOURCES:
        if name in figures:
            board.sections.extend(build(months, figures[name]))
    for section in board.sections:
        section.chart = _chart(section)
    return board


# --- the sections ---------------------------------------------------------------------------------------------


def _rows(months: list[Month], figures: dict[str, dict[str, Any]]) -> list[tuple[Month, dict[str, float | None]]]:
    return [(month, dict(figures.get(month.key, {}))) for month in months]


def _applications(months: list[Month], figures: dict[str, Any]) -> Section | None:
    """Online applications per month and service: the headline figure of the e-government concept."""
    columns: list[Column] = []
    per_month: dict[str, dict[str, float]] = {}

    def add(key: str, label: str, values: dict[str, float]) -> None:
        columns.append(Column(key, label))
        for month, value in values.items():
            per_month.setdefault(month, {})[key] = value

    if "permits" in figures:
        counts = figures["permits"][0]
        add("permits", _("Sondernutzung: Anträge"), {m: sum(v.values()) for m, v in counts.items()})
    if "appointments" in figures:
        booked = figures["appointments"]
        add("appointments", _("Terminbuchungen"), {m: v.get("online_bookings", 0) for m, v in booked.items()})
    if "participation" in figures:
        add(
            "participation",
            _("Beteiligung: Vorschläge und Kommentare"),
            {m: v.get("proposals", 0) + v.get("comments", 0) for m, v in figures["participation"].items()},
        )
    if "payments" in figures:
        add("payments", _("Zahlungen"), {m: sum(v.values()) for m, v in figures["payments"].items()})
    if not columns:
        return None
    return Section(
        "applications",
        _("Online-Anträge je Monat und Dienst"),
        _(
            "Eingereichte Anträge auf Sondernutzung, online gebuchte Termine, Vorschläge und Kommentare in "
            "Beteiligungsverfahren und eingegangene Zahlungen, je Monat."
        ),
        columns,
        _rows(months, per_month),
    )


# Each service's figures, fetched once (aggregate SQL in `<service>.services.figures`), then shaped into sections.


def _permit_figures(months: list[Month]) -> tuple[Any, Any, Any]:
    from permits.services import figures

    counts, names = figures.submissions(months, str(get_locale() or "de"))
    return counts, names, figures.processing_times(months)


def _appointment_figures(months: list[Month]) -> Any:
    from appointments.services import figures

    return figures.monthly_figures(months)


def _payment_figures(months: list[Month]) -> Any:
    from payments.services import figures

    return figures.monthly_figures(months)


def _participation_figures(months: list[Month]) -> Any:
    from participation.services import figures

    return figures.monthly_figures(months)


def _permits(months: list[Month], fetched: Any) -> list[Section]:
    counts, names, times = fetched
    use_types = sorted(names, key=lambda code: names[code])
    by_type = Section(
        "permits_use_types",
        _("Sondernutzung: Anträge nach Nutzungsart"),
        _("Eingereichte Anträge nach dem Monat der Einreichung und der Art der Nutzung."),
        [Column(code or "-", names[code] or _("ohne Angabe")) for code in use_types],
        _rows(months, {m: {code or "-": n for code, n in v.items()} for m, v in counts.items()}),
    )
    processing = Section(
        "permits_processing",
        _("Sondernutzung: Bearbeitungszeit"),
        _(
            "Tage vom Einreichen bis zur Entscheidung (Erlaubnis oder Ablehnung), nach dem Monat der Entscheidung: "
            "Median (die Hälfte der Fälle war schneller) und 90. Perzentil (neun von zehn Fällen waren schneller)."
        ),
        [
            Column("median", _("Median (Tage)"), "days"),
            Column("p90", _("90. Perzentil (Tage)"), "days"),
            Column("decided", _("Entschiedene Fälle"), "count", charted=False),
        ],
        _rows(
            months,
            {m: {"median": t.median_days, "p90": t.p90_days, "decided": t.decided} for m, t in times.items()},
        ),
        stacked=False,
    )
    return [by_type, processing]


def _payments(months: list[Month], paid: Any) -> list[Section]:
    rows = {}
    for month, values in paid.items():
        online, transfer = values.get("online", 0), values.get("bank_transfer", 0)
        rows[month] = {"online": online, "bank_transfer": transfer, "share": online / (online + transfer)}
    return [
        Section(
            "payments",
            _("Zahlungswege: online oder per Überweisung"),
            _(
                "Eingegangene Zahlungen nach dem Monat des Eingangs: online bezahlt (Karte, Lastschrift, PayPal …) "
                "oder per Überweisung, und der Anteil online."
            ),
            [
                Column("online", _("Online bezahlt")),
                Column("bank_transfer", _("Per Überweisung")),
                Column("share", _("Anteil online"), "percent", charted=False),
            ],
            _rows(months, rows),
        )
    ]


def _appointments(months: list[Month], booked: Any) -> list[Section]:
    rows = {}
    for month, v in booked.items():
        offered, booked = v.get("offered_minutes", 0), v.get("booked_minutes", 0)
        seen = v.get("no_shows", 0) + v.get("attended", 0)
        rows[month] = {
            "utilisation": booked / offered if offered else None,
            "no_show_rate": v.get("no_shows", 0) / seen if seen else None,
            "booked_hours": booked / 60,
            "offered_hours": offered / 60,
            "no_shows": v.get("no_shows", 0),
        }
    return [
        Section(
            "appointments",
            _("Termine: Auslastung und Nichterscheinen"),
            _(
                "Auslastung: gebuchte Platz-Stunden geteilt durch angebotene (Öffnungszeit mal Schalter, ohne "
                "Feiertage und Schließtage), alle Standorte. Nicht erschienen: Anteil an allen Terminen, zu denen "
                "die Person erschien oder nicht erschien."
            ),
            [
                Column("utilisation", _("Auslastung"), "percent"),
                Column("no_show_rate", _("Nicht erschienen"), "percent"),
                Column("booked_hours", _("Gebucht (Stunden)"), "hours", charted=False),
                Column("offered_hours", _("Angeboten (Stunden)"), "hours", charted=False),
                Column("no_shows", _("Nicht erschienen (Anzahl)"), "count", charted=False),
            ],
            _rows(months, rows),
            stacked=False,
        )
    ]


def _participation(months: list[Month], written: Any) -> list[Section]:
    return [
        Section(
            "participation",
            _("Bürgerbeteiligung"),
            _("Veröffentlichte Beteiligungsverfahren, geschriebene Vorschläge und Kommentare und Unterstützungen."),
            [
                Column("consultations", _("Verfahren")),
                Column("proposals", _("Vorschläge")),
                Column("comments", _("Kommentare")),
                Column("supports", _("Unterstützungen")),
            ],
            _rows(months, written),
            stacked=False,
        )
    ]


SOURCES: list[tuple[str, Callable[[list[Month]], Any], Callable[[list[Month], Any], list[Section]]]] = [
    ("permits", _permit_figures, _permits),
    ("payments", _payment_figures, _payments),
    ("appointments", _appointment_figures, _appointments),
    ("participation", _participation_figures, _participation),
]

FORMATS = {"count": "{:.0f}", "percent": "{:.0%}", "days": "{:.1f}", "hours": "{:.1f}"}


def formatted(value: float | None, kind: str) -> str:
    """A figure as the page shows it (German decimal comma); "–" where there is none."""
    if value is None:
        return "–"
    text = FORMATS[kind].format(value).replace("%", " %")
    return text.replace(".", ",") if not str(get_locale() or "de").startswith("en") else text


def _chart(section: Section) -> Chart:
    charted = [c for c in section.columns if c.charted]
    kind = charted[0].kind if charted else "count"
    scale = 100.0 if kind == "percent" else 1.0
    fmt = "{:.0f} %" if kind == "percent" else FORMATS[kind]
    series = [
        (c.label, [None if (v := row.get(c.key)) is None else v * scale for _m, row in section.rows]) for c in charted
    ]
    return layout([m.label for m, _r in section.rows], series, section.stacked, fmt)


# --- export ---------------------------------------------------------------------------------------------------


def csv_text(board: Dashboard) -> str:
    """One row per section, month and figure (long format: easy to filter and pivot in a spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Bereich"), _("Monat"), _("Kennzahl"), _("Wert")])
    for section in board.sections:
        for month, row in section.rows:
            for column in section.columns:
                value = row.get(column.key, 0 if column.kind == "count" else None)
                shown = "" if value is None else (f"{value:.4f}" if column.kind != "count" else f"{value:.0f}")
                writer.writerow([formula_safe(section.title), month.key, formula_safe(column.label), shown])
    return out.getvalue()
