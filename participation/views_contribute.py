"""The citizens' pages to take part: propose (with a look at similar proposals first), support and withdraw,
comment and reply, edit one's own comment for a short while, and "Meine Beteiligung" on Mein Konto.

Every change is a POST with the CSRF token, calls one service function and redirects (303) to what changed; a
refusal or bad input comes back on the same page, next to the field it concerns, with what was typed kept.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from participation import rules
from participation.errors import REFUSAL_STATUS, ParticipationError
from participation.forms import CommentForm, EditCommentForm, ProposalForm, ReplyForm, show_error
from participation.models import ContributionState
from participation.services import comments, consultations, contributions, images, proposals, pseudonyms, supports
from participation.views_public import (
    comment_form_for,
    comment_page,
    consultation_page,
    load_proposal,
    proposal_page,
)
from portal import access
from portal.actors import Actor, current_actor
from portal.extensions import limiter
from portal.files.models import StoredFile
from portal.forms import ConfirmForm
from portal.timeutil import utcnow

bp = Blueprint("participation_contribute", __name__)

# Enough for a person correcting a form a few times; a script posting on end is slowed down.
POST_LIMIT = "20/minute"


def _data(form: Any, name: str) -> Any:
    field = form._fields.get(name)
    return field.data if field is not None and field.data else None


# --- proposing ------------------------------------------------------------------------------------------------


def _proposal_form(actor: Actor, categories: list[str]) -> ProposalForm:
    form = ProposalForm()
    assert actor.user is not None
    if pseudonyms.get_pseudonym(actor.user.id) is not None:
        del form.pseudonym
    if categories:
        form.offer(categories)
    else:
        del form.category
    return form


def _take_image(actor: Actor, consultation_id: int, form: ProposalForm) -> StoredFile | None:
    """Keep the image of this submission for the next one: a newly chosen file is checked and stored at once
    (replacing an image taken before), "Bild entfernen" drops it; the form then carries the key. Returns the kept
    image or None; a refused file's message is put next to the image field."""
    kept = images.own_image(actor, form.image_key.data)  # a key from the page is only ever the person's own
    if kept is not None and form.remove_image.data:
        images.discard_image(actor, kept.key)
        kept = None
    if form.image_chosen:
        try:
            taken = images.take_image(actor, consultation_id, form.image.data)
        except ParticipationError as error:
            show_error(form, error)
        else:
            if kept is not None:
                images.discard_image(actor, kept.key)
            kept = taken
            form.image.data = None  # taken in: the file field need not ask for it again
    form.image_key.data = kept.key if kept is not None else ""
    form.remove_image.data = False
    if kept is not None:
        form.image_alt.flags.required = True
    return kept


@bp.route("/beteiligung/<slug>/vorschlag", methods=["GET", "POST"])
@access.public
@limiter.limit(POST_LIMIT, methods=["POST"])
def propose(slug: str):
    """The proposal form; first the rules' refusal if proposing is not open to this person now. A first POST
    whose title resembles published proposals shows them above the form ("Trotzdem einreichen" goes on)."""
    actor = current_actor()
    consultation = consultations.get_by_slug(actor, slug)
    refusal = rules.refusal(actor, consultation, rules.PROPOSE)
    if refusal is not None:
        status = 200 if request.method == "GET" else REFUSAL_STATUS.get(refusal.code, 409)
        return render_template("participation/propose.html", consultation=consultation, refusal=refusal), status
    form = _proposal_form(actor, consultation.categories)
    similar: list[Any] = []
    message, status, image = None, 200, None
    valid = form.validate_on_submit()
    csrf = getattr(form, "csrf_token", None)
    if form.is_submitted() and not (csrf is not None and csrf.errors):  # no file is taken from a forged post
        image = _take_image(actor, consultation.id, form)
        valid = valid and not form.image.errors
    if valid:
        if request.form.get("trotzdem") != "1":
            similar = proposals.similar_proposals(consultation.id, form.title.data)
        if not similar:
            place = form.place
            point = place.data.centre if place.data is not None else (None, None)
            try:
                proposal = proposals.create_proposal(
                    actor,
                    consultation.id,
                    title=form.title.data,
                    body=form.body.data,
                    category=_data(form, "category"),
                    address=place.geocoded.label if place.geocoded is not None else None,
                    lat=point[0],
                    lon=point[1],
                    image_key=image.key if image is not None else None,
                    image_alt=form.image_alt.data if image is not None else None,
                    pseudonym=_data(form, "pseudonym"),
                )
            except ParticipationError as error:
                message, status = show_error(form, error), error.status
            else:
                return redirect(
                    url_for("participation_contribute.proposed", slug=consultation.slug, reference=proposal.reference),
                    303,
                )
    elif form.is_submitted():
        status = 422
    return render_template(
        "participation/propose.html",
        consultation=consultation,
        form=form,
        similar=similar,
        message=message,
        image=image,
    ), status


@bp.get("/beteiligung/<slug>/vorschlaege/<reference>/eingereicht")
@access.signed_in
def proposed(slug: str, reference: str):
    consultation, item = load_proposal(slug, reference)
    if not item.own:
        return redirect(url_for("participation.proposal", slug=slug, reference=item.proposal.reference))
    return render_template("participation/proposed.html", consultation=consultation, item=item)


# --- support --------------------------------------------------------------------------------------------------


def _support_change(slug: str, reference: str, change: Any, done: str) -> Any:
    consultation, item = load_proposal(slug, reference)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        result = change(current_actor(), item.proposal.id)
    except ParticipationError as error:
        flash(str(error.message), "warning")
    else:
        flash(done, "success")
        if result.answer_requested:
            flash(_("Der Vorschlag hat genug Unterstützung: Die Verwaltung wird ihn offiziell beantworten."), "info")
    target = url_for("participation.proposal", slug=consultation.slug, reference=item.proposal.reference)
    return redirect(target + "#unterstuetzung", 303)


@bp.post("/beteiligung/<slug>/vorschlaege/<reference>/unterstuetzen")
@access.signed_in
def support(slug: str, reference: str):
    return _support_change(slug, reference, supports.support, _("Sie unterstützen diesen Vorschlag."))


@bp.post("/beteiligung/<slug>/vorschlaege/<reference>/unterstuetzung-zurueckziehen")
@access.signed_in
def withdraw(slug: str, reference: str):
    return _support_change(slug, reference, supports.withdraw, _("Sie haben Ihre Unterstützung zurückgezogen."))


# --- comments -------------------------------------------------------------------------------------------------


def _write_comment(form: Any, consultation_id: int, **where: Any) -> tuple[Any, str | None, int]:
    """Create the comment from a validated form: (comment, None, 303) or (None, message, status)."""
    if not form.validate_on_submit():
        return None, None, 422
    try:
        comment = comments.create_comment(
            current_actor(),
            consultation_id,
            body=form.body.data,
            stance=form.stance.data or None,
            pseudonym=_data(form, "pseudonym"),
            guest_name=_data(form, "guest_name"),
            **where,
        )
    except ParticipationError as error:
        return None, show_error(form, error), error.status
    if comment.state == ContributionState.PENDING:
        flash(_("Danke! Ihr Beitrag erscheint, sobald die Moderation ihn freigegeben hat."), "info")
    else:
        flash(_("Danke! Ihr Beitrag ist veröffentlicht."), "success")
    return comment, None, 303


def _to_comment(comment: Any) -> Any:
    return redirect(url_for("participation.comment", comment_id=comment.id) + f"#kommentar-{comment.id}", 303)


@bp.post("/beteiligung/<slug>/kommentieren")
@access.public
@limiter.limit(POST_LIMIT, methods=["POST"])
def comment_on_consultation(slug: str):
    consultation = consultations.get_by_slug(current_actor(), slug)
    form = comment_form_for(current_actor(), consultation, CommentForm)
    comment, message, status = _write_comment(form, consultation.id)
    if comment is not None:
        return _to_comment(comment)
    return consultation_page(consultation, comment_form=form, message=message, status=status)


@bp.post("/beteiligung/<slug>/vorschlaege/<reference>/kommentieren")
@access.public
@limiter.limit(POST_LIMIT, methods=["POST"])
def comment_on_proposal(slug: str, reference: str):
    consultation, item = load_proposal(slug, reference)
    form = comment_form_for(current_actor(), consultation, CommentForm)
    comment, message, status = _write_comment(form, consultation.id, proposal_id=item.proposal.id)
    if comment is not None:
        return _to_comment(comment)
    return proposal_page(consultation, item, comment_form=form, message=message, status=status)


@bp.post("/beteiligung/kommentare/<int:comment_id>/antworten")
@access.public
@limiter.limit(POST_LIMIT, methods=["POST"])
def reply(comment_id: int):
    context = contributions.get_comment(current_actor(), comment_id)
    form = comment_form_for(current_actor(), context.consultation, ReplyForm)
    comment, message, status = _write_comment(form, context.consultation.id, parent_id=comment_id)
    if comment is not None:
        return _to_comment(comment)
    return comment_page(context, reply_form=form, message=message, status=status)


@bp.route("/beteiligung/kommentare/<int:comment_id>/bearbeiten", methods=["GET", "POST"])
@access.signed_in
def edit_comment(comment_id: int):
    """The author changes their comment's text and stance within the edit window, while commenting is open."""
    actor = current_actor()
    context = contributions.get_comment(actor, comment_id)
    comment = context.item.comment
    if not context.item.own:
        abort(403)
    minutes = comments.edit_minutes()
    closed = rules.refusal(actor, context.consultation, comments.action_for(comment))
    blocked = None
    if comment.state == ContributionState.HIDDEN:
        blocked = _("Ein ausgeblendeter Kommentar kann nicht bearbeitet werden.")
    elif closed is not None:
        blocked = str(closed.message)
    elif (utcnow() - comment.created_at).total_seconds() > minutes * 60:
        blocked = _("Kommentare können nur in den ersten %(n)s Minuten bearbeitet werden.", n=minutes)
    if blocked is not None:
        status = 409 if request.method == "POST" else 200
        return render_template("participation/edit_comment.html", context=context, form=None, message=blocked), status
    form = EditCommentForm(data={"body": comment.body, "stance": comment.stance})
    message, status = None, 200
    if form.validate_on_submit():
        try:
            comments.edit_comment(actor, comment.id, body=form.body.data, stance=form.stance.data or None)
        except ParticipationError as error:
            message, status = show_error(form, error), error.status
        else:
            flash(_("Ihr Kommentar ist geändert."), "success")
            return _to_comment(comment)
    elif form.is_submitted():
        status = 422
    return render_template(
        "participation/edit_comment.html", context=context, form=form, message=message, minutes=minutes
    ), status


# --- Mein Konto -----------------------------------------------------------------------------------------------


@bp.get("/konto/beteiligung")
@access.signed_in
def mine():
    return render_template("participation/mine.html", mine=contributions.my_participation(current_actor()))
