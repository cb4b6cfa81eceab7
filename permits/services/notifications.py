"""Mail to the applicant about their case, enqueued in the transaction of the change it reports.

`acknowledge_submission` is called by `applications.submit` inside its `with transaction():`, so the case's
reference, its audit event and the acknowledgement commit together or not at all (portal.transaction).
"""

from __future__ import annotations

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
