"""Moderation pages beside the queue, under /admin/beteiligung/moderation: blocks (moderators only), appeals and
the figures per consultation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from participation.errors import ParticipationError
from participation.moderation_forms import AppealDecisionForm
from participation.services import moderation_people, moderation_queue
from participation.views_moderation import STAFF, attempt, labels
from portal import access
from portal.actors import current_actor
from portal.forms import ConfirmForm

bp = Blueprint("participation_moderation_admin", __name__, url_prefix="/admin/beteiligung/moderation")


@bp.get("/sperren")
@access.roles(*STAFF)
def blocks():
    return render_template(
        "participation/moderation/blocks.html",
        items=moderation_people.blocks(current_actor()),
        form=ConfirmForm(),
        can_block=True,
        **labels(),
    )


@bp.post("/sperren/<int:block_id>/aufheben")
@access.roles(*STAFF)
def lift(block_id: int):
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            moderation_people.lift_block(current_actor(), block_id)
            flash(_("Die Sperre ist aufgehoben."), "success")
        except ParticipationError as error:
            flash(str(error.message), "danger")
    return redirect(url_for(".blocks"), 303)


@bp.get("/einsprueche")
@access.roles(*STAFF)
def appeals():
    actor = current_actor()
    return render_template(
        "participation/moderation/appeals.html",
        open_items=moderation_people.appeals(actor),
        decided=moderation_people.appeals(actor, open_only=False, limit=50),
        can_block=moderation_people.can_block(actor),
        **labels(),
    )


def _appeal_page(appeal_id: int, form: AppealDecisionForm | None = None, status: int = 200) -> Any:
    actor = current_actor()
    item = moderation_people.get_appeal(actor, appeal_id)
    deciders = [item.appeal.decided_by_id, item.hiding.decided_by_id if item.hiding else None]
    return render_template(
        "participation/moderation/appeal.html",
        item=item,
        form=form or AppealDecisionForm(formdata=None),
        staff_names=moderation_queue.staff_names(deciders),
        own_hiding=item.hiding is not None and actor.user is not None and item.hiding.decided_by_id == actor.user.id,
        **labels(),
    ), status


@bp.route("/einsprueche/<int:appeal_id>", methods=["GET", "POST"])
@access.roles(*STAFF)
def appeal(appeal_id: int):
    form = AppealDecisionForm()
    if not form.is_submitted():
        return _appeal_page(appeal_id)
    status = 422
    if form.validate():
        grant = form.outcome.data == "granted"
        done, status = attempt(
            form,
            lambda: moderation_people.decide_appeal(current_actor(), appeal_id, grant=grant, note=form.note.data),
        )
        if done is not None:
            flash(
                _("Dem Einspruch ist stattgegeben; der Beitrag wird wieder angezeigt.")
                if grant
                else _("Der Einspruch ist zurückgewiesen; der Beitrag bleibt ausgeblendet."),
                "success",
            )
            return redirect(url_for(".appeals"), 303)
    return _appeal_page(appeal_id, form, status)


@bp.get("/statistik")
@access.roles(*STAFF)
def statistics():
    return render_template(
        "participation/moderation/statistics.html",
        figures=moderation_queue.statistics(current_actor()),
        can_block=moderation_people.can_block(current_actor()),
        **labels(),
    )
