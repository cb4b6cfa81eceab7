"""The decision documents of a permit case as PDF (portal.pdf): the permit, the refusal and the fee notice.

Each is rendered once, inside the transaction of the decision (or of the fee notice), and stored with the case
(`PermitDocument`), so what the applicant downloads later is exactly what was decided and sent, even if the
catalogue or the city's texts change afterwards. They are written in the applicant's account language when
that is English, German otherwise: the clerk deciding may have the other language set, and what counts is who
reads the decision.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, pgettext
from flask_babel import gettext as _

from permits.errors import PermitNotFound
from permits.models import DocumentKind, PermitApplication, PermitDocument
from portal.accounts.models import User
from portal.actors import Actor
from portal.extensions import db
from portal.pdf import Block, Document, Heading, KeyValues, Paragraph, SmallPrint, Table, render_pdf
from portal.references import format_kassenzeichen

LANGUAGES = ("de", "en")
# The issuing department's name, marked for translation here and translated inside force_locale.
DEPARTMENT = "Verkehrs- und Tiefbauamt"
# The bill's lines were labelled in the submitter's language at submission; these codes are relabelled in the
# document's language (an exemption line keeps its stored label, which names the department's reason).
LINE_LABELS = {
    "usage": "Sondernutzungsgebühr",
    "minimum": "Aufschlag auf die Mindestgebühr",
    "administrative": "Verwaltungsgebühr",
}


def applicant_language(application: PermitApplication) -> str:
    """The language the applicant's account is set to ("de" or "en"); German when there is no account."""
    user = db.session.get(User, application.user_id) if application.user_id is not None else None
    language = getattr(user, "language", None) or "de"
    return language if language in LANGUAGES else "de"


def _is_english() -> bool:
    from flask_babel import get_locale

    locale = get_locale()
    return locale is not None and locale.language == "en"


def _euro(cents: int) -> str:
    whole, rest = divmod(abs(int(cents)), 100)
    sign = "-" if int(cents) < 0 else ""
    if _is_english():
        return f"{sign}€{whole:,}.{rest:02d}"
    return sign + f"{whole:,}".replace(",", ".") + f",{rest:02d} €"


def _day(value: object) -> str:
    if value is None:
        return "–"
    return value.strftime("%d/%m/%Y" if _is_english() else "%d.%m.%Y")  # type: ignore[attr-defined]


def _line_label(line: dict[str, object]) -> str:
    code = str(line.get("code", ""))
    return _(LINE_LABELS[code]) if code in LINE_LABELS else str(line.get("label", ""))


def objection_notice() -> str:
    """The Rechtsbehelfsbelehrung: one month for an objection (Widerspruch, § 70 VwGO), where to lodge it."""
    city = current_app.config.get("CITY_NAME", "Stadt Musterstadt")
    return _(
        "Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Widerspruch "
        "erhoben werden. Der Widerspruch ist schriftlich, elektronisch oder zur Niederschrift bei der "
        "%(city)s, %(department)s, einzulegen.",
        city=city,
        department=_(DEPARTMENT),
    )


def _case_rows(application: PermitApplication, language: str) -> list[tuple[str, str]]:
    use_type = application.use_type.name(language) if application.use_type is not None else "–"
    area = f"{application.area_dm2 / 100:.2f}" + " m²" if application.area_dm2 else "–"
    if language == "de":
        area = area.replace(".", ",")
    return [
        (_("Antragsteller"), application.applicant_name),
        (_("Anschrift"), application.applicant_address or "–"),
        (_("Verantwortlich vor Ort"), application.responsible_name),
        (_("Art der Nutzung"), use_type),
        (pgettext("permit place", "Ort"), f"{application.street} {application.house_number}".strip()),
        (_("Fläche"), area),
        (_("Eingegangen am"), _day(application.submitted_at.date() if application.submitted_at else None)),
    ]


def _closing() -> list[Block]:
    """The small print every decision ends with: the Rechtsbehelfsbelehrung and the note on the signature."""
    return [
        SmallPrint(objection_notice()),
        SmallPrint(_("Dieser Bescheid wurde maschinell erstellt und ist ohne Unterschrift gültig.")),
    ]


def _document(application: PermitApplication, language: str, title: str, subject: str, blocks: list[Block]) -> bytes:
    return render_pdf(
        Document(
            title=title,
            language=language,
            reference=application.reference,
            subject=subject,
            department=_(DEPARTMENT),
            blocks=blocks,
        )
    )


def _store(application: PermitApplication, kind: DocumentKind, content: bytes) -> PermitDocument:
    document = PermitDocument(kind=kind.value, filename=f"{kind.value}-{application.reference}.pdf", content=content)
    application.documents.append(document)
    return document


def store_permit(application: PermitApplication) -> PermitDocument:
    """The Sondernutzungserlaubnis: who may use which area for what, how long, under which conditions."""
    language = applicant_language(application)
    with force_locale(language):
        blocks: list[Block] = [
            Paragraph(
                _(
                    "Auf Ihren Antrag vom %(day)s wird Ihnen die folgende Sondernutzung der öffentlichen Straße "
                    "erlaubt.",
                    day=_day(application.submitted_at.date() if application.submitted_at else None),
                )
            ),
            KeyValues(
                [
                    *_case_rows(application, language),
                    (_("Gültig vom"), _day(application.valid_from)),
                    (_("Gültig bis einschließlich"), _day(application.valid_until)),
                ]
            ),
            Heading(_("Nebenbestimmungen")),
        ]
        conditions = [line.strip() for line in application.conditions.splitlines() if line.strip()]
        if conditions:
            blocks += [Paragraph(f"{number}. {line}") for number, line in enumerate(conditions, start=1)]
        else:
            blocks.append(Paragraph(_("Keine.")))
        blocks += [
            Heading(_("Gebühr")),
            Paragraph(
                _(
                    "Die Gebühr von %(amount)s wird mit gesondertem Gebührenbescheid festgesetzt.",
                    amount=_euro(application.fee_cents or 0),
                )
                if application.fee_cents
                else _("Für diese Sondernutzung wird keine Gebühr erhoben.")
            ),
            Paragraph(
                _("Die Erlaubnis wird erst wirksam, wenn die Gebühr bezahlt ist.")
                if application.fee_cents
                else _("Die Erlaubnis ist mit der Bekanntgabe wirksam.")
            ),
            *_closing(),
        ]
        content = _document(
            application,
            language,
            _("Sondernutzungserlaubnis"),
            _("Sondernutzungserlaubnis %(reference)s", reference=application.reference),
            blocks,
        )
    return _store(application, DocumentKind.PERMIT, content)


def store_refusal(application: PermitApplication) -> PermitDocument:
    """The Ablehnungsbescheid with the reasons given by the clerk."""
    language = applicant_language(application)
    with force_locale(language):
        blocks: list[Block] = [
            Paragraph(
                _(
                    "Ihr Antrag vom %(day)s auf eine Sondernutzung der öffentlichen Straße wird abgelehnt.",
                    day=_day(application.submitted_at.date() if application.submitted_at else None),
                )
            ),
            KeyValues(_case_rows(application, language)),
            Heading(_("Gründe")),
            *[Paragraph(line.strip()) for line in application.decision_reasons.splitlines() if line.strip()],
            *_closing(),
        ]
        content = _document(
            application,
            language,
            _("Ablehnungsbescheid"),
            _("Ablehnung des Antrags %(reference)s", reference=application.reference),
            blocks,
        )
    return _store(application, DocumentKind.REFUSAL, content)


def store_fee_notice(application: PermitApplication) -> PermitDocument:
    """The Gebührenbescheid: the fee as computed at submission, line by line, and the Kassenzeichen to pay under."""
    assert application.kassenzeichen is not None
    bank = current_app.config
    language = applicant_language(application)
    with force_locale(language):
        lines = application.fee_breakdown or []
        blocks: list[Block] = [
            Paragraph(
                _(
                    "Für die mit Bescheid vom heutigen Tag erteilte Sondernutzungserlaubnis %(reference)s wird die "
                    "folgende Gebühr festgesetzt.",
                    reference=application.reference,
                )
            ),
            Table(
                [_("Posten"), _("Betrag")],
                [[_line_label(line), _euro(int(line.get("amount_cents", 0)))] for line in lines]
                + [[_("Gesamt"), _euro(application.fee_cents or 0)]],
                widths=(4, 1),
            ),
            KeyValues(
                [
                    (_("Kassenzeichen"), format_kassenzeichen(application.kassenzeichen)),
                    (_("Betrag"), _euro(application.fee_cents or 0)),
                    (_("Empfänger"), str(bank.get("PAYMENTS_BANK_RECIPIENT", ""))),
                    (_("IBAN"), str(bank.get("PAYMENTS_BANK_IBAN", ""))),
                    (_("Fällig"), _("innerhalb eines Monats nach Bekanntgabe")),
                ]
            ),
            Paragraph(
                _(
                    "Bitte bezahlen Sie online über Ihr Konto im Stadtportal oder überweisen Sie den Betrag unter "
                    "Angabe des Kassenzeichens. Die Erlaubnis wird wirksam, sobald die Zahlung eingegangen ist."
                )
            ),
            *_closing(),
        ]
        content = _document(
            application,
            language,
            _("Gebührenbescheid"),
            _("Gebührenbescheid, Kassenzeichen %(kz)s", kz=format_kassenzeichen(application.kassenzeichen)),
            blocks,
        )
    return _store(application, DocumentKind.FEE_NOTICE, content)


def get_document(actor: Actor, application: PermitApplication, kind: str) -> PermitDocument:
    """A decision document of a case the actor may see (the service checked `may_see` before); 404 otherwise."""
    from permits.services.applications import may_see

    if not may_see(actor, application):
        raise PermitNotFound()
    for document in application.documents:
        if document.kind == kind:
            return document
    raise PermitNotFound()
