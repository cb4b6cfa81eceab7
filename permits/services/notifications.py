"""Mail to the applicant about their case, enqueued in the transaction of the change it reports.

`acknowledge_submission` is called by `applications.submit` inside its `with transaction():`, so the case's
reference, its audit event and the acknowledgement commit together or not at all (portal.transaction).
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from permits.models import PermitApplication
from portal.mail.services import enqueue
from portal.urls import absolute_url

TEMPLATE = "permits_submitted"


def _language(application: PermitApplication) -> str:
    if has_request_context() and get_locale() is not None:
        return str(get_locale())
    return "de"


def acknowledge_submission(application: PermitApplication) -> None:
    """The acknowledgement of receipt (Eingangsbestätigung): reference, fee, what happens next, a link to the case."""
    if not application.applicant_email:
        return
    enqueue(
        application.applicant_email,
        _l("Ihr Antrag auf Sondernutzung %(reference)s ist eingegangen", reference=application.reference),
        TEMPLATE,
        language=_language(application),
        application=application,
        case_link=absolute_url("permits.case", public_id=application.public_id),
        use_type=application.use_type.name_de if application.use_type is not None else "",
    )


def _send(application: PermitApplication, subject: Any, template: str, **context: Any) -> None:
    if not application.applicant_email:
        return
    enqueue(
        application.applicant_email,
        subject,
        template,
        language=_language(application),
        application=application,
        case_link=absolute_url("permits.case", public_id=application.public_id),
        **context,
    )


def documents_requested(application: PermitApplication) -> None:
    """The clerk's request for documents, with their note; the applicant answers on the case page."""
    _send(
        application,
        _l("Bitte reichen Sie Unterlagen zu Ihrem Antrag %(reference)s nach", reference=application.reference),
        "permits_documents_requested",
    )


def decided(application: PermitApplication) -> None:
    """The decision (permit, or refusal) is in the applicant's account; with a fee, how to pay."""
    _send(
        application,
        _l("Entscheidung zu Ihrem Antrag auf Sondernutzung %(reference)s", reference=application.reference),
        "permits_decided",
        payment_link=absolute_url("payments.status", public_id=application.payment_public_id)
        if application.payment_public_id
        else None,
    )


def permit_active(application: PermitApplication) -> None:
    """The fee is paid: the permit is in force."""
    _send(
        application,
        _l("Ihre Sondernutzungserlaubnis %(reference)s gilt", reference=application.reference),
        "permits_active",
    )
