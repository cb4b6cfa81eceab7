"""The outbox admin page: what the portal has mailed, and whether it arrived at the mail server.

In development without MAIL_SERVER nothing is delivered, and this page is where a developer reads the
verification and sign-in links.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import access
from portal.actors import current_actor
from portal.mail import admin_services
from portal.mail.delivery import mail_configured

bp = Blueprint("mail_admin", __name__, url_prefix="/admin/postausgang")

STATUS_LABELS = {
    "pending": _l("Wartet auf Versand"),
    "sending": _l("Wird gesendet"),
    "sent": _l("Gesendet"),
    "failed": _l("Fehlgeschlagen"),
}


@bp.context_processor
def _labels() -> dict:
    return {"status_labels": STATUS_LABELS}


@bp.get("/")
@access.roles("platform_admin")
def index() -> ResponseReturnValue:
    outbox = admin_services.list_outbox(
        current_actor(), page=request.args.get("seite", 1, type=int), status=request.args.get("status") or None
    )
    return render_template("mail_admin/index.html", outbox=outbox, mail_configured=mail_configured())


@bp.get("/<int:message_pk>")
@access.roles("platform_admin")
def detail(message_pk: int) -> ResponseReturnValue:
    message = admin_services.read_message(current_actor(), message_pk)
    return render_template("mail_admin/detail.html", message=message, mail_configured=mail_configured())


@bp.post("/<int:message_pk>/erneut-senden")
@access.roles("platform_admin")
def requeue(message_pk: int) -> ResponseReturnValue:
    admin_services.requeue_message(current_actor(), message_pk)
    flash(_("Die Nachricht wird beim nächsten Versandlauf erneut zugestellt."), "success")
    return redirect(url_for(".detail", message_pk=message_pk))
