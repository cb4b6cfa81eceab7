"""Pending approvals for the people who may decide them: /admin/freigaben.

The route admits staff; which requests a person sees and may decide is the service's business.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import access
from portal.actors import current_actor
from portal.approvals import services
from portal.approvals.forms import DecisionForm
from portal.forms import ConfirmForm
from portal.references import register_prefix
from portal.services_registry import add_admin_link

bp = Blueprint("approvals", __name__)

STATE_LABELS: dict[str, Any] = {
    "requested": _l("wartet auf Entscheidung"),
    "approved": _l("freigegeben"),
    "rejected": _l("abgelehnt"),
    "withdrawn": _l("zurückgezogen"),
    "expired": _l("abgelaufen"),
}


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    register_prefix(app, services.REFERENCE_PREFIX, service="approvals", description="Freigaben (Vier-Augen)")
    add_admin_link(app, "approvals.index", _l("Freigaben (Vier-Augen-Prinzip)"))


@bp.get("/admin/freigaben")
@access.staff
def index():
    actor = current_actor()
    return render_template(
        "approvals/index.html",
        to_decide=services.decidable_requests(actor),
        mine=services.own_requests(actor),
        kind_label=services.kind_label,
        state_labels=STATE_LABELS,
    )


def _detail(request_id: int, form: DecisionForm | None = None, status: int = 200) -> Any:
    actor = current_actor()
    approval = services.get_request_for(actor, request_id)
    may_decide = services.can_decide(actor, approval)
    return (
        render_template(
            "approvals/detail.html",
            approval=approval,
            kind_label=services.kind_label(approval.kind),
            state_labels=STATE_LABELS,
            may_decide=may_decide,
            own=actor.user is not None and actor.user.id == approval.requested_by_id,
            form=form or DecisionForm(),
            withdraw_form=ConfirmForm(),
        ),
        status,
    )


@bp.get("/admin/freigaben/<int:request_id>")
@access.staff
def detail(request_id: int):
    return _detail(request_id)


@bp.post("/admin/freigaben/<int:request_id>")
@access.staff
def decide(request_id: int):
    actor = current_actor()
    services.get_request_for(actor, request_id)  # 404 for people who may not even see it
    form = DecisionForm()
    if not form.validate_on_submit():
        return _detail(request_id, form)
    approve = form.decision.data == "approve"
    try:
        approval = services.decide(actor, request_id, approve, form.note.data or "")
    except services.ApprovalError as error:
        if error.code in services.FORBIDDEN_CODES:
            abort(403, description=str(error.message))
        if error.field == "note":
            form.note.errors = [*form.note.errors, error.message]
            return _detail(request_id, form)
        flash(str(error.message), "danger")
        return redirect(url_for("approvals.detail", request_id=request_id))
    if approve:
        flash(_("Die Freigabe %(reference)s ist erteilt.", reference=approval.reference), "success")
    else:
        flash(_("Die Freigabe %(reference)s ist abgelehnt.", reference=approval.reference), "success")
    return redirect(url_for("approvals.index"))


@bp.post("/admin/freigaben/<int:request_id>/zurueckziehen")
@access.staff
def withdraw(request_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        approval = services.withdraw(current_actor(), request_id)
    except services.ApprovalError as error:
        if error.code in services.FORBIDDEN_CODES:
            abort(403, description=str(error.message))
        flash(str(error.message), "danger")
        return redirect(url_for("approvals.detail", request_id=request_id))
    flash(_("Sie haben die Freigabe %(reference)s zurückgezogen.", reference=approval.reference), "success")
    return redirect(url_for("approvals.index"))
