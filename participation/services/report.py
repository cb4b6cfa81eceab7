"""The council report of a consultation: one PDF (portal.pdf) for the council and the public record.

It gives the consultation and its timeline, participation per calendar week (proposals, comments, supports), the
ten most supported proposals, the categories, the survey's results, the moderation figures and the official
answers (participation.services.report_figures reads them). Like the exports it names no participant: no
pseudonyms, no guest names, no free-text survey answers (only their number).

Participation counts published contributions, as the consultation's counters do; hidden and pending ones appear
in the moderation figures instead, and a hidden proposal's answer is left out with its title. portal.pdf draws
text and tables, not charts, so participation over time and the survey's results are tables. The texts follow
the request's language (German or English); who may have the report, and its audit event
(`participation.exported`, format pdf), are the exports' (participation.services.exports).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.errors import ParticipationError
from participation.models import Consultation, ConsultationState
from participation.models_results import UpdateKind
from participation.models_surveys import QuestionKind
from participation.services import answers, exports
from participation.services import report_figures as figures
from participation.services.moderation_queue import ModerationStats
from participation.services.survey_results import SurveyResults
from portal.actors import Actor
from portal.pdf import Block, Document, Heading, KeyValues, Paragraph, SmallPrint, Table, render_pdf
from portal.timeutil import to_berlin

LANGUAGES = ("de", "en")

STATE_LABELS: dict[str, Any] = {
    ConsultationState.DRAFT: _l("Entwurf"),
    ConsultationState.PUBLISHED: _l("veröffentlicht"),
    ConsultationState.CLOSED: _l("abgeschlossen"),
    ConsultationState.ARCHIVED: _l("archiviert"),
}
PHASE_LABELS: dict[str, Any] = {
    "information": _l("Information"),
    "proposals": _l("Vorschläge sammeln"),
    "comments": _l("Kommentieren"),
    "draft": _l("Entwurf kommentieren"),
    "survey": _l("Umfrage"),
    "voting": _l("Abstimmung"),
    "results": _l("Ergebnisse"),
}


# --- the document ---------------------------------------------------------------------------------------------


def _day(value: date | datetime | None, language: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = to_berlin(value).date()
    return format_date(value, "dd.MM.yyyy" if language == "de" else "dd/MM/yyyy", locale=language)


def _number(value: float, language: str) -> str:
    return format_decimal(value, locale=language)


def _week_label(monday: date, language: str) -> str:
    year, week, _weekday = monday.isocalendar()
    sunday = monday + timedelta(days=6)
    return _(
        "KW %(week)s/%(year)s (%(start)s–%(end)s)",
        week=week,
        year=year,
        start=_day(monday, language),
        end=_day(sunday, language),
    )


def _overview(consultation: Consultation, language: str) -> list[Block]:
    period = (
        _(
            "%(start)s bis %(end)s",
            start=_day(consultation.published_at, language),
            end=_day(consultation.closed_at, language),
        )
        if consultation.closed_at
        else _("seit %(start)s", start=_day(consultation.published_at, language))
    )
    rows = [
        (_("Verfahren"), consultation.title),
        (_("Amt"), consultation.department.name),
        (_("Stand"), str(STATE_LABELS.get(consultation.state, consultation.state))),
        (_("Zeitraum"), period if consultation.published_at else _("nicht veröffentlicht")),
        (_("Stadtteil"), consultation.district or "–"),
        (_("Thema"), consultation.topic or "–"),
        (_("Vorschläge"), _number(consultation.proposal_count, language)),
        (_("Kommentare"), _number(consultation.comment_count, language)),
        (_("Unterstützungen"), _number(consultation.support_count, language)),
    ]
    blocks: list[Block] = []
    if consultation.summary:
        blocks.append(Paragraph(consultation.summary))
    blocks.append(KeyValues(rows))
    blocks.append(Heading(_("Phasen")))
    blocks.append(
        Table(
            [_("Phase"), _("Art"), _("Beginn"), _("Ende")],
            [
                [
                    phase.title,
                    str(PHASE_LABELS.get(phase.kind, phase.kind)),
                    _day(phase.starts_at, language),
                    _day(phase.ends_at, language),
                ]
                for phase in consultation.phases
            ],
            widths=(4, 3, 2, 2),
        )
        if consultation.phases
        else Paragraph(_("Keine Phasen."))
    )
    return blocks


def _participation(consultation_id: int, language: str) -> list[Block]:
    weeks = figures.weekly(consultation_id)
    blocks: list[Block] = [
        Heading(_("Beteiligung im Zeitverlauf")),
        Paragraph(
            _(
                "Veröffentlichte Beiträge je Kalenderwoche. Unterstützungen zählen, solange sie nicht zurückgezogen "
                "sind; ausgeblendete und noch nicht freigegebene Beiträge stehen bei der Moderation."
            )
        ),
    ]
    if not weeks:
        blocks.append(Paragraph(_("Noch keine Beiträge.")))
        return blocks
    blocks.append(
        Table(
            [_("Woche"), _("Vorschläge"), _("Kommentare"), _("Unterstützungen")],
            [
                [
                    _week_label(w.monday, language),
                    _number(w.proposals, language),
                    _number(w.comments, language),
                    _number(w.supports, language),
                ]
                for w in weeks
            ],
            widths=(4, 2, 2, 2),
        )
    )
    return blocks


def _proposals(consultation_id: int, language: str) -> list[Block]:
    blocks: list[Block] = [Heading(_("Die meistunterstützten Vorschläge"))]
    top = figures.top_proposals(consultation_id)
    if top:
        blocks.append(
            Table(
                [_("Nr."), _("Vorschlag"), _("Kategorie"), _("Unterstützungen"), _("Antwort")],
                [
                    [
                        str(rank),
                        f"{p.reference}: {p.title}",
                        p.category or "–",
                        _number(p.support_count, language),
                        answers.status_label(UpdateKind.ANSWER, p.answer_status) if p.answer_status else "–",
                    ]
                    for rank, p in enumerate(top, start=1)
                ],
                widths=(1, 6, 2.5, 3.2, 2.8),
            )
        )
    else:
        blocks.append(Paragraph(_("Noch keine veröffentlichten Vorschläge.")))
    found = figures.categories(consultation_id)
    blocks.append(Heading(_("Kategorien")))
    if found:
        blocks.append(
            Table(
                [_("Kategorie"), _("Vorschläge"), _("Unterstützungen")],
                [
                    [category or _("ohne Kategorie"), _number(n, language), _number(supports, language)]
                    for category, n, supports in found
                ],
                widths=(5, 2, 2),
            )
        )
    else:
        blocks.append(Paragraph(_("Noch keine veröffentlichten Vorschläge.")))
    return blocks


def _survey(found: SurveyResults | ParticipationError | None, language: str) -> list[Block]:
    if found is None:
        return []
    blocks: list[Block] = [Heading(_("Umfrage"))]
    if isinstance(found, ParticipationError):  # not out yet for this person: the survey's own rule
        blocks.append(Paragraph(str(found.message)))
        return blocks
    blocks.append(
        Paragraph(
            ngettext("%(num)s Antwortbogen.", "%(num)s Antwortbögen.", found.respondents)
            + " "
            + _(
                "Die Anteile beziehen sich auf die Antwortbögen, in denen die Frage beantwortet ist; bei "
                "Mehrfachauswahl ergeben sie zusammen mehr als 100 %%."
            )
        )
    )
    for number, result in enumerate(found.questions, start=1):
        question = result.question
        blocks.append(Heading(f"{number}. {question.text}", level=3))
        if question.kind == QuestionKind.TEXT:
            # Unmoderated free texts may name people: the report counts them, the export has them.
            blocks.append(
                Paragraph(
                    ngettext(
                        "%(num)s Freitextantwort. Sie steht im Export der Umfrage, nicht in diesem Bericht.",
                        "%(num)s Freitextantworten. Sie stehen im Export der Umfrage, nicht in diesem Bericht.",
                        result.answered,
                    )
                )
            )
            continue
        label = _("Wert") if question.kind == QuestionKind.SCALE else _("Antwort")
        blocks.append(
            Table(
                [label, _("Antwortbögen"), _("Anteil")],
                [
                    [bar.label, _number(bar.count, language), format_percent(bar.share, locale=language)]
                    for bar in result.bars
                ],
                widths=(6, 2, 2),
            )
        )
        if result.mean is not None:
            blocks.append(Paragraph(_("Mittelwert: %(mean)s", mean=_number(round(result.mean, 1), language))))
    return blocks


def _moderation(found: ModerationStats | None, language: str) -> list[Block]:
    blocks: list[Block] = [Heading(_("Moderation"))]
    if found is None:
        blocks.append(Paragraph(_("Das Verfahren ist nicht veröffentlicht; es gab nichts zu moderieren.")))
        return blocks
    median = (
        _("%(hours)s Stunden", hours=_number(found.median_hours, language)) if found.median_hours is not None else "–"
    )
    blocks.append(
        KeyValues(
            [
                (_("Fälle (gemeldet oder vorab zu prüfen)"), _number(found.cases, language)),
                (_("davon noch offen"), _number(found.open, language)),
                (_("Meldungen"), _number(found.flags, language)),
                (_("Jetzt ausgeblendete Beiträge"), _number(found.hidden, language)),
                (_("Zeit bis zur Entscheidung (Median)"), median),
                (_("Nach Ablauf der Frist entschieden oder noch offen"), _number(found.overdue, language)),
                (_("Einsprüche (davon stattgegeben)"), f"{found.appeals} ({found.appeals_granted})"),
            ]
        )
    )
    return blocks


def _answers(found: list[figures.Answer], language: str) -> list[Block]:
    blocks: list[Block] = [Heading(_("Antworten der Verwaltung"))]
    if not found:
        blocks.append(Paragraph(_("Noch keine Antworten.")))
        return blocks
    for answer in found:
        blocks.append(Heading(f"{answer.reference}: {answer.title}", level=3))
        status = _(
            "%(status)s, beantwortet am %(date)s",
            status=answers.status_label(UpdateKind.ANSWER, answer.status),
            date=_day(answer.answered_at, language),
        )
        if answer.implementation_status:
            status += " · " + _(
                "Umsetzung: %(status)s",
                status=answers.status_label(UpdateKind.IMPLEMENTATION, answer.implementation_status),
            )
        blocks.append(Paragraph(status))
        blocks.append(Paragraph(answer.text))
    return blocks


@dataclass(frozen=True)
class CouncilReport:
    pdf: bytes
    filename: str


def council_report(actor: Actor, consultation_id: int, language: str = "de") -> CouncilReport:
    """The consultation's council report as a PDF, in German or English; for those who may export its data
    (others: 403). Audited as an export."""
    consultation = exports.exportable(actor, consultation_id)
    moderation = figures.moderation_figures(actor, consultation)
    return report_of(actor, consultation, language, moderation, figures.survey_figures(actor, consultation))


def report_of(
    actor: Actor,
    consultation: Consultation,
    language: str,
    moderation: ModerationStats | None,
    survey: SurveyResults | ParticipationError | None,
) -> CouncilReport:
    """The report of figures the caller read under its own rules (council_report's, or those of the council's
    readers in participation.services.readers), audited as an export by `actor`."""
    language = language if language in LANGUAGES else "de"
    official = figures.official_answers(consultation.id)
    with force_locale(language):
        blocks = [
            *_overview(consultation, language),
            *_participation(consultation.id, language),
            *_proposals(consultation.id, language),
            *_survey(survey, language),
            *_moderation(moderation, language),
            *_answers(official, language),
            SmallPrint(
                _(
                    "Dieser Bericht nennt keine Teilnehmenden. Er wurde maschinell aus den Daten des "
                    "Beteiligungsportals erstellt."
                )
            ),
        ]
        document = Document(
            title=_("Bericht zum Beteiligungsverfahren"),
            language=language,
            subject=consultation.title,
            department=consultation.department.name,
            blocks=blocks,
        )
        pdf = render_pdf(document)
    rows = {
        "proposals": consultation.proposal_count,
        "comments": consultation.comment_count,
        "supports": consultation.support_count,
        "answers": len(official),
    }
    exports.record_report(actor, consultation, language, rows)
    return CouncilReport(pdf, f"bericht-{consultation.slug}.pdf")
