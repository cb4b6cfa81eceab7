"""Break-glass staff pages: an official of the consuming department opens an emergency access, reads in it and
ends it; the dpo reviews it on the pages of dataaccess.views_dpo. Routes on the blueprint of
dataaccess.views_staff."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import abort, render_template
from flask_babel import gettext as _

from dataaccess.errors import AccessRefused
from dataaccess.services import breakglass, overview
from dataaccess.services.common import is_dpo
from dataaccess.staff_forms import BreakGlassForm, BreakGlassReadForm
from dataaccess.views_staff import (
    bp,
    choices,
    form_status,
    redirect_with,
    refusal_labels,
    saved,
    show_error,
)
from portal import access
from portal.actors import current_actor
from portal.forms import ConfirmForm
from portal.timeutil import to_berlin, utcnow


def _breakglass_form(actor: Any) -> BreakGlassForm:
    form = BreakGlassForm()
    departments = breakglass.departments_for(actor)
    form.department_id.choices = choices([(d.id, d.name) for d in departments])
    form.dataset_id.choices = choices(
        [(d.id, f"{d.name} ({d.department.name})") for d in breakglass.datasets_for([d.id for d in departments])]
    )
    form.category.choices = choices([(k, str(v)) for k, v in breakglass.CATEGORIES.items()])
    return form


@bp.route("/notfall", methods=["GET", "POST"])
@access.staff
def breakglass_new():
    actor = current_actor()
    form = _breakglass_form(actor)
    if not form.department_id.choices:
        abort(403)
    if form.validate_on_submit():
        open_session = partial(
            breakglass.open_session,
            actor,
            department_id=form.department_id.data,
            dataset_id=form.dataset_id.data,
            category=form.category.data,
            reason=form.reason.data or "",
            case_reference=form.case_reference.data or None,
        )
        if (session := saved(form, open_session)) is not None:
            return redirect_with(
                _(
                    "Der Notfallzugriff ist geöffnet, bis %(time)s Uhr. Die Datenverantwortung und die "
                    "Datenschutzbeauftragte Person sind benachrichtigt.",
                    time=_berlin_time(session.expires_at),
                ),
                "dataaccess_staff.breakglass_detail",
                session_id=session.id,
            )
    return render_template(
        "dataaccess/staff/breakglass_new.html",
        form=form,
        minutes=breakglass.minutes(),
        sessions=breakglass.own_sessions(actor),
        findings=breakglass.FINDINGS,
        category_label=breakglass.category_label,
    ), form_status(form)


def _berlin_time(value: Any) -> str:
    return to_berlin(value).strftime("%H:%M")


def _read_form(session: Any) -> BreakGlassReadForm:
    form = BreakGlassReadForm()
    form.fields.choices = choices([(f.name, f"{f.label} ({f.name})") for f in session.dataset.fields])
    return form


def _session_page(
    session_id: int, form: BreakGlassReadForm | None = None, result: Any = None, status: int = 200
) -> Any:
    actor = current_actor()
    session = breakglass.get_session_for(actor, session_id)
    own = actor.user is not None and actor.user.id == session.user_id
    return render_template(
        "dataaccess/staff/breakglass.html",
        session=session,
        own=own,
        active=session.is_active(utcnow()),
        remaining=breakglass.remaining_minutes(session),
        reads=breakglass.reads_of(actor, session.id),
        form=form or _read_form(session),
        result=result,
        category_label=breakglass.category_label,
        findings=breakglass.FINDINGS,
        is_dpo=is_dpo(actor),
        people=overview.people([session.user_id, session.reviewed_by_id]),
        end_form=ConfirmForm(),
        refusal_labels=refusal_labels(),
    ), status


@bp.get("/notfall/<int:session_id>")
@access.staff
def breakglass_detail(session_id: int):
    return _session_page(session_id)


@bp.post("/notfall/<int:session_id>")
@access.staff
def breakglass_read(session_id: int):
    actor = current_actor()
    session = breakglass.get_session_for(actor, session_id)
    if actor.user is None or actor.user.id != session.user_id:
        abort(403)
    form = _read_form(session)
    if not form.validate_on_submit():
        return _session_page(session_id, form, status=422)
    try:
        result = breakglass.read(
            actor, session.id, form.subject.data or "", list(form.fields.data or []), form.case_reference.data or None
        )
    except AccessRefused as refused:
        show_error(form, refused)
        return _session_page(session_id, form, status=refused.status)
    # The records are shown once, on this response; nothing of them is kept in the session or a redirect.
    return _session_page(session_id, _read_form(session), result=result)


@bp.post("/notfall/<int:session_id>/beenden")
@access.staff
def breakglass_end(session_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    breakglass.end_session(current_actor(), session_id)
    return redirect_with(
        _("Der Notfallzugriff ist beendet."), "dataaccess_staff.breakglass_detail", session_id=session_id
    )
