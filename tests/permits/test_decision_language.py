"""The decision PDFs follow the applicant's account language: English when the account is set to English, German
otherwise, whatever language the deciding clerk uses."""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale

from permits.services import applications, decisions, desk
from portal.extensions import db
from tests.permits.builders import make_draft
from tests.portal.pdf.helpers import page_texts

TODAY = date(2026, 5, 4)


def _granted(world, conditions="Zufahrt freihalten"):
    actor = world.applicant_actor
    application = desk.accept(world.officer_actor, applications.submit(actor, make_draft(actor), today=TODAY))
    return desk.grant(world.officer_actor, application, desk.Grant(date(2026, 6, 1), date(2026, 6, 3), conditions))


def _text(world, application, kind: str) -> str:
    return " ".join(page_texts(decisions.get_document(world.applicant_actor, application, kind).content))


def test_an_english_applicant_gets_the_permit_and_fee_notice_in_english(world):
    world.applicant.language = "en"
    db.session.commit()
    with force_locale("de"):  # the clerk decides in German
        application = _granted(world)
    permit = _text(world, application, "permit")
    assert "Special-use permit" in permit and "Conditions" in permit and "Zufahrt freihalten" in permit
    assert "01/06/2026" in permit and "03/06/2026" in permit
    assert "objection" in permit and "Widerspruch" not in permit
    assert "Roads and Traffic Department" in permit
    notice = _text(world, application, "fee_notice")
    assert "Fee notice" in notice and "€39.40" in notice
    assert "Special use fee" in notice and "Administrative fee" in notice
    assert "Gebühr" not in notice


def test_a_german_applicant_gets_german_documents_even_from_an_english_speaking_clerk(world):
    with force_locale("en"):
        application = _granted(world)
    permit = _text(world, application, "permit")
    assert "Sondernutzungserlaubnis" in permit and "Nebenbestimmungen" in permit and "01.06.2026" in permit
    notice = _text(world, application, "fee_notice")
    assert "39,40 €" in notice and "Verwaltungsgebühr" in notice and "Sondernutzungsgebühr" in notice


def _refused(world, reasons="Die Feuerwehrzufahrt wäre versperrt."):
    actor = world.applicant_actor
    application = desk.accept(world.officer_actor, applications.submit(actor, make_draft(actor), today=TODAY))
    return desk.refuse(world.officer_actor, application, reasons)


def test_an_english_applicant_gets_the_refusal_in_english_with_the_clerks_reasons(world):
    world.applicant.language = "en"
    db.session.commit()
    with force_locale("de"):
        application = _refused(world)
    refusal = _text(world, application, "refusal")
    assert "Refusal notice" in refusal and f"Refusal of application {application.reference}" in refusal
    assert "Die Feuerwehrzufahrt wäre versperrt." in refusal  # the reasons as the clerk wrote them
    assert "objection" in refusal and "Widerspruch" not in refusal and "Ablehnungsbescheid" not in refusal


def test_a_german_applicant_gets_the_refusal_in_german(world):
    with force_locale("en"):
        application = _refused(world)
    refusal = _text(world, application, "refusal")
    assert "Ablehnungsbescheid" in refusal and "Widerspruch" in refusal and "Refusal" not in refusal
