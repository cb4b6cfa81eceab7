"""The data protection officer's pages at /admin/datenzugriff/datenschutz: unusual patterns in the access log
and the break-glass reviews the dpo must close with a finding."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from dataaccess.errors import DataAccessError
from dataaccess.services import breakglass, monitoring, overview
from dataaccess.staff_forms import ReviewForm
from dataaccess.views_staff import refusal_labels, show_error, state_labels
from portal import access
from portal.actors import current_actor
from portal.timeutil import utcnow

bp = Blueprint("dataaccess_dpo", __name__, url_prefix="/admin/datenzugriff/datenschutz")

DPO = ("dpo",)


@bp.get("/")
@access.roles(*DPO)
def dashboard():
    board = monitoring.dashboard(current_actor())
    return render_template(
        "dataaccess/dpo/dashboard.html",
        board=board,
        refusal_labels=refusal_labels(),
        category_label=breakglass.category_label,
        state_labels=state_labels(),
        office_start=monitoring.OFFICE_START,
        office_end=monitoring.OFFICE_END,
        expiry_days=monitoring.EXPIRY_DAYS,
    )


@bp.get("/notfall")
@access.roles(*DPO)
def reviews():
    actor = current_actor()
    return render_template(
        "dataaccess/dpo/reviews.html",
        open_reviews=breakglass.reviews(actor),
        closed=[row for row in breakglass.reviews(actor, open_only=False, limit=50) if row.session.finding != "open"],
        category_label=breakglass.category_label,
        findings=breakglass.FINDINGS,
    )


def _review_page(session_id: int, form: ReviewForm | None = None, status: int = 200) -> Any:
    actor = current_actor()
    session = breakglass.get_session_for(actor, session_id)
    return render_template(
        "dataaccess/dpo/review.html",
        session=session,
        reads=breakglass.reads_of(actor, session.id),
        form=form or ReviewForm(),
        active=session.is_active(utcnow()),
        own=actor.user is not None and actor.user.id == session.user_id,
        category_label=breakglass.category_label,
        findings=breakglass.FINDINGS,
        people=overview.people([session.user_id, session.reviewed_by_id]),
        refusal_labels=refusal_labels(),
    ), status


@bp.get("/notfall/<int:session_id>")
@access.roles(*DPO)
def review(session_id: int):
    return _review_page(session_id)


@bp.post("/notfall/<int:session_id>")
@access.roles(*DPO)
def review_close(session_id: int):
    form = ReviewForm()
    if not form.validate_on_submit():
        return _review_page(session_id, form, 422)
    try:
        session = breakglass.close_review(
            current_actor(), session_id, finding=form.finding.data, note=form.note.data or ""
        )
    except DataAccessError as error:
        show_error(form, error)
        return _review_page(session_id, form, error.status)
    flash(
        _("Die Prüfung ist abgeschlossen: %(finding)s.", finding=breakglass.FINDINGS[session.finding]),
        "success",
    )
    return redirect(url_for("dataaccess_dpo.reviews"), 303)
