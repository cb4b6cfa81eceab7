"""Moderation pages. For citizens, under /beteiligung: flag a contribution, and (its author) read why it was
hidden and appeal once. For moderators and the consultation's managers, under /admin/beteiligung/moderation:
the queue and each contribution's case page with its decisions. Blocks, appeals and figures:
participation.views_moderation_admin.

The services decide who may do what (moderators everywhere, managers in their department's consultations);
the access rules only keep out whoever holds none of the roles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from participation.errors import ParticipationError
from participation.models_moderation import ContributionKind
from participation.moderation_forms import AppealForm, BlockForm, FlagForm, HideForm, NoteForm, RevealForm
from participation.services import moderation, moderation_identity, moderation_people, moderation_queue
from portal import access
from portal.accounts.services.common import local_path
from portal.actors import current_actor
from portal.extensions import limiter
from portal.forms import ConfirmForm

T = TypeVar("T")

bp = Blueprint("participation_moderation", __name__, url_prefix="/admin/beteiligung/moderation")
citizen_bp = Blueprint("participation_reports", __name__, url_prefix="/beteiligung")

STAFF = ("moderator", "consultation_manager", "platform_admin")
KINDS = {"vorschlag": ContributionKind.PROPOSAL.value, "kommentar": ContributionKind.COMMENT.value}
SLUGS = {kind: slug for slug, kind in KINDS.items()}
KIND = "<any(vorschlag, kommentar):kind>"


def kind_of(slug: str) -> str:
    return KINDS[slug]


def labels() -> dict[str, Any]:
    """What the templates need to name reasons, kinds and decisions."""
    return {
        "reasons": moderation.REASONS,
        "kinds": moderation.KIND_LABELS,
        "kind_slugs": SLUGS,
        "decisions": {
            "hide": _("ausgeblendet"),
            "restore": _("wieder eingeblendet"),
            "publish": _("freigegeben"),
            "dismiss": _("Meldungen verworfen"),
        },
        "causes": {
            "flag": _("Meldung"),
            "pending": _("Vorabprüfung"),
            "staff": _("Moderation"),
            "appeal": _("Einspruch"),
        },
        "public_url": public_url,
    }


def public_url(kind: str, contribution: Any, consultation: Any) -> str | None:
    """The contribution on the citizens' pages, if those pages are there."""
    try:
        if kind == ContributionKind.PROPOSAL:
            return url_for("participation.proposal", slug=consultation.slug, reference=contribution.reference)
        return url_for("participation.comment", comment_id=contribution.id)
    except BuildError:
        return None


def show_error(form: FlaskForm, error: ParticipationError) -> None:
    """The service's refusal next to its field, or as a message when no field of the form fits."""
    if error.field in form:
        field = form[error.field]
        field.errors = [*field.errors, str(error.message)]
    else:
        flash(str(error.message), "danger")


def attempt(form: FlaskForm, call: Callable[[], T]) -> tuple[T | None, int]:
    """What the service call returns (and 200), or None and the refusal's status with the refusal shown on the
    form."""
    try:
        return call(), 200
    except ParticipationError as error:
        show_error(form, error)
        return None, error.status


# --- citizens ----------------------------------------------------------------------------------------------------


@citizen_bp.route(f"/melden/{KIND}/<int:contribution_id>", methods=["GET", "POST"])
@access.signed_in
@limiter.limit("20/minute", methods=["POST"])
def flag(kind: str, contribution_id: int):
    actor = current_actor()
    shown = moderation_queue.published_contribution(actor, kind_of(kind), contribution_id)
    back = local_path(request.values.get("next")) or public_url(shown.kind, shown.contribution, shown.consultation)
    form = FlagForm()
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            text = form.text.data or ""
            done, status = attempt(
                form, lambda: moderation.flag(actor, shown.kind, contribution_id, reason=form.reason.data, text=text)
            )
            if done is not None:
                flash(_("Danke für Ihre Meldung. Die Moderation prüft den Beitrag."), "success")
                return redirect(back or url_for(".flag", kind=kind, contribution_id=contribution_id), 303)
    return render_template("participation/moderation/flag.html", shown=shown, form=form, back=back, **labels()), status


@citizen_bp.route(f"/moderation/{KIND}/<int:contribution_id>", methods=["GET", "POST"])
@access.signed_in
def notice(kind: str, contribution_id: int):
    """For the author: why the contribution is hidden, and the appeal form (once)."""
    actor = current_actor()
    form = AppealForm()
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            text = form.text.data
            done, status = attempt(
                form, lambda: moderation_people.appeal(actor, kind_of(kind), contribution_id, text=text)
            )
            if done is not None:
                flash(_("Ihr Einspruch ist eingegangen. Die Moderation entscheidet darüber."), "success")
                return redirect(url_for(".notice", kind=kind, contribution_id=contribution_id), 303)
    found = moderation_people.author_notice(actor, kind_of(kind), contribution_id)
    back = public_url(found.kind, found.contribution, found.consultation)
    return render_template(
        "participation/moderation/notice.html", notice=found, form=form, back=back, **labels()
    ), status


# --- the queue and the case page -----------------------------------------------------------------------------------


@bp.get("/")
@access.roles(*STAFF)
def queue():
    actor = current_actor()
    chosen = request.args.get("verfahren", type=int)
    entries = moderation_queue.queue(actor, consultation_id=chosen)
    cases, appeals = moderation_queue.counts(actor)
    return render_template(
        "participation/moderation/queue.html",
        entries=entries,
        open_cases=cases,
        open_appeals=appeals,
        chosen=chosen,
        hours=moderation.moderation_hours(),
        can_block=moderation_people.can_block(actor),
        **labels(),
    )


def case_page(
    kind: str,
    contribution_id: int,
    status: int = 200,
    revealed: moderation_identity.Identity | None = None,
    **forms: FlaskForm,
) -> Any:
    """The case page; `revealed` is the account behind the pseudonym, shown only in the response to its look-up."""
    actor = current_actor()
    view = moderation_queue.get_case(actor, kind_of(kind), contribution_id)
    forms.setdefault("hide_form", HideForm(prefix="hide", formdata=None))
    forms.setdefault("restore_form", NoteForm(prefix="restore", formdata=None))
    forms.setdefault("dismiss_form", NoteForm(prefix="dismiss", formdata=None))
    forms.setdefault("publish_form", ConfirmForm(prefix="publish", formdata=None))
    forms.setdefault("block_form", BlockForm(prefix="block", formdata=None))
    forms.setdefault("reveal_form", RevealForm(prefix="reveal", formdata=None))
    all_errors = [f for form in forms.values() for f in form if f.errors]
    return render_template(
        "participation/moderation/case.html",
        view=view,
        slug=kind,
        can_block=moderation_people.can_block(actor),
        has_errors=bool(all_errors),
        revealed=revealed,
        **forms,
        **labels(),
    ), status


@bp.get(f"/{KIND}/<int:contribution_id>")
@access.roles(*STAFF)
def case(kind: str, contribution_id: int):
    return case_page(kind, contribution_id)


def _decided(message: str) -> Response:
    flash(message, "success")
    return redirect(url_for(".queue"), 303)


def _decision(
    kind: str, contribution_id: int, form: FlaskForm, name: str, call: Callable[[], Any], message: str
) -> Any:
    status = 422
    if form.validate_on_submit():
        done, status = attempt(form, call)
        if done is not None:
            return _decided(message)
    return case_page(kind, contribution_id, status, **{name: form})


@bp.post(f"/{KIND}/<int:contribution_id>/ausblenden")
@access.roles(*STAFF)
def hide(kind: str, contribution_id: int):
    form = HideForm(prefix="hide")
    return _decision(
        kind,
        contribution_id,
        form,
        "hide_form",
        lambda: moderation.hide(
            current_actor(), kind_of(kind), contribution_id, reason=form.reason.data, text=form.text.data or ""
        ),
        _("Der Beitrag ist ausgeblendet. Die Verfasserin oder der Verfasser sieht Ihre Begründung."),
    )


@bp.post(f"/{KIND}/<int:contribution_id>/wiederherstellen")
@access.roles(*STAFF)
def restore(kind: str, contribution_id: int):
    form = NoteForm(prefix="restore")
    return _decision(
        kind,
        contribution_id,
        form,
        "restore_form",
        lambda: moderation.restore(current_actor(), kind_of(kind), contribution_id, text=form.text.data or ""),
        _("Der Beitrag wird wieder angezeigt."),
    )


@bp.post(f"/{KIND}/<int:contribution_id>/freigeben")
@access.roles(*STAFF)
def publish(kind: str, contribution_id: int):
    form = ConfirmForm(prefix="publish")
    return _decision(
        kind,
        contribution_id,
        form,
        "publish_form",
        lambda: moderation.publish(current_actor(), kind_of(kind), contribution_id),
        _("Der Beitrag ist freigegeben und für alle sichtbar."),
    )


@bp.post(f"/{KIND}/<int:contribution_id>/verwerfen")
@access.roles(*STAFF)
def dismiss(kind: str, contribution_id: int):
    form = NoteForm(prefix="dismiss")
    return _decision(
        kind,
        contribution_id,
        form,
        "dismiss_form",
        lambda: moderation.dismiss(current_actor(), kind_of(kind), contribution_id, text=form.text.data or ""),
        _("Die Meldungen sind verworfen; der Beitrag bleibt sichtbar."),
    )


@bp.post(f"/{KIND}/<int:contribution_id>/sperren")
@access.roles(*STAFF)
def block(kind: str, contribution_id: int):
    form = BlockForm(prefix="block")
    return _decision(
        kind,
        contribution_id,
        form,
        "block_form",
        lambda: moderation_people.block_author(
            current_actor(), kind_of(kind), contribution_id, days=form.days.data, reason=form.reason.data
        ),
        _("Die Person ist gesperrt. Sie kann bis zum Ende der Sperre nicht mehr mitwirken."),
    )


@bp.post(f"/{KIND}/<int:contribution_id>/person")
@access.roles(*STAFF)
def reveal(kind: str, contribution_id: int):
    """The account behind the pseudonym, with a reason; audited, and shown in this response only (no redirect), so
    that the address and name are not on the case page for whoever opens it next."""
    form = RevealForm(prefix="reveal")
    status = 422
    if form.validate_on_submit():
        found, status = attempt(
            form,
            lambda: moderation_identity.reveal_identity(
                current_actor(), kind_of(kind), contribution_id, reason=form.reason.data or ""
            ),
        )
        if found is not None:
            page, ok = case_page(kind, contribution_id, revealed=found)
            return page, ok, {"Cache-Control": "no-store"}
    return case_page(kind, contribution_id, status, reveal_form=form)
