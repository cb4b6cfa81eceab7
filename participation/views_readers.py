"""Council read access. For the reader, signed in: a consultation's figures at /beteiligung/<slug>/kennzahlen and
its council report as PDF. For the consultation's managers, under /admin/beteiligung/<id>/lesezugriff: granting
access to an account by its email address (the form also sits on the consultation's page) and ending it.

The access rules admit whoever is signed in (the figures) or holds a managing role (granting); which consultation a
person may read or grant access to is decided in participation.services.readers.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from participation import rules
from participation.errors import ParticipationError
from participation.models_results import UpdateKind
from participation.reader_forms import ReaderForm
from participation.services import answers, consultations, readers
from portal import access
from portal.actors import current_actor
from portal.extensions import limiter
from portal.files.views import content_disposition
from portal.forms import ConfirmForm
from portal.timeutil import utcnow

bp = Blueprint("participation_readers", __name__)

MANAGERS = (rules.MANAGER_ROLE, rules.ADMIN_ROLE)
REPORT_LIMIT = "30 per minute"  # as the staff's downloads (participation.views_exports)


def _labels() -> dict[str, Any]:
    return {
        "answer_label": lambda status: answers.status_label(UpdateKind.ANSWER, status),
        "implementation_label": lambda status: answers.status_label(UpdateKind.IMPLEMENTATION, status),
        "phase_in_force": rules.phase_in_force,
    }


# --- the reader ---------------------------------------------------------------------------------------------------


@bp.get("/beteiligung/<slug>/kennzahlen")
@access.signed_in
def figures(slug: str):
    found = readers.figures(current_actor(), slug)
    return render_template("participation/readers/figures.html", figures=found, now=utcnow(), **_labels())


@bp.get("/beteiligung/<slug>/kennzahlen/bericht.pdf")
@limiter.limit(REPORT_LIMIT)
@access.signed_in
def report(slug: str) -> Response:
    found = readers.reader_report(current_actor(), slug, str(get_locale() or "de"))
    response = Response(found.pdf, content_type="application/pdf")
    response.content_length = len(found.pdf)
    response.headers["Content-Disposition"] = content_disposition(found.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the managers ----------------------------------------------------------------------------------------------


def _detail(consultation_id: int) -> Response:
    url = url_for("participation_manage.consultation_detail", consultation_id=consultation_id, _anchor="lesezugriff")
    return redirect(url, 303)


@bp.route("/admin/beteiligung/<int:consultation_id>/lesezugriff", methods=["GET", "POST"])
@access.roles(*MANAGERS)
def grant(consultation_id: int):
    """The grant form on a page of its own: where the consultation page's form lands with its errors."""
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    form = ReaderForm()
    if form.validate_on_submit():
        try:
            readers.grant(actor, consultation.id, form.email.data or "")
        except ParticipationError as error:
            form.email.errors = [*form.email.errors, str(error.message)]
        else:
            flash(
                _(
                    "%(email)s kann die Kennzahlen jetzt einsehen und erhält eine E-Mail mit dem Link.",
                    email=form.email.data,
                ),
                "success",
            )
            return _detail(consultation.id)
    return render_template(
        "participation/readers/grant.html", consultation=consultation, form=form
    ), 422 if form.errors else 200


@bp.post("/admin/beteiligung/<int:consultation_id>/lesezugriff/<int:grant_id>/beenden")
@access.roles(*MANAGERS)
def revoke(consultation_id: int, grant_id: int):
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            readers.revoke(current_actor(), consultation_id, grant_id)
        except ParticipationError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Der Zugang zu den Kennzahlen ist beendet."), "success")
    return _detail(consultation_id)
