"""The citizens' pages to read a consultation: the list (open, upcoming, closed, the Vorhabenliste), a
consultation with its timeline and proposals, a proposal with its comments, and one comment with its replies.

Server-rendered and usable without JavaScript: lists walk forward by cursor ("Weitere …" links), filters are GET
forms. The page functions (`consultation_page`, `proposal_page`, `comment_page`) also serve the contributing
views (views_contribute), which show a form again with its errors on the page it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from participation import cached_pages, rules, shared_pages
from participation.errors import ParticipationError
from participation.forms import CommentForm, ListFilterForm, ProposalFilterForm, ReplyForm
from participation.models import MAX_DEPTH, Audience, Consultation, ContributionState, Phase, PhaseKind
from participation.services import (
    answers,
    comments,
    consultations,
    contributions,
    images,
    proposals,
    pseudonyms,
    viewers,
)
from participation.services.contributions import CommentInContext
from participation.services.proposals import ProposalItem
from portal import access
from portal.actors import Actor, current_actor
from portal.reads_alone import reads_alone
from portal.timeutil import utcnow

bp = Blueprint("participation", __name__, url_prefix="/beteiligung")

# The lists of the overview, by their word in the address: (the service's status, the tab's label).
LISTS: dict[str, tuple[str | None, Any]] = {
    "laufend": ("open", _l("Laufend")),
    "demnaechst": ("upcoming", _l("Demnächst")),
    "abgeschlossen": ("closed", _l("Abgeschlossen")),
    "vorhaben": (None, _l("Vorhabenliste")),
}
KIND_LABELS: dict[str, Any] = {
    PhaseKind.INFORMATION: _l("Information"),
    PhaseKind.PROPOSALS: _l("Vorschläge sammeln"),
    PhaseKind.COMMENTS: _l("Kommentieren"),
    PhaseKind.DRAFT: _l("Entwurf kommentieren"),
    PhaseKind.SURVEY: _l("Umfrage"),
    PhaseKind.VOTING: _l("Abstimmung"),
    PhaseKind.RESULTS: _l("Ergebnisse"),
}
STANCE_LABELS: dict[str, Any] = {"pro": _l("dafür"), "neutral": _l("neutral"), "contra": _l("dagegen")}
# The actions these pages offer (the draft's and the survey's pages: participation.views_draft, views_surveys).
OFFERED = (rules.PROPOSE, rules.COMMENT, rules.SUPPORT, rules.COMMENT_DRAFT, rules.ANSWER_SURVEY)


@bp.record_once
def _template_helpers(state: Any) -> None:
    state.app.jinja_env.globals.update(
        participation_kind=lambda kind: str(KIND_LABELS.get(kind, kind)),
        participation_action=lambda action: str(rules.ACTION_LABELS.get(action, action)),
        participation_stance=lambda stance: str(STANCE_LABELS.get(stance, "")),
    )


@dataclass
class Overview:
    """A consultation on a list: the phase in force (or the next one) and the span of its timeline."""

    consultation: Consultation
    phase: Phase | None
    next_phase: Phase | None
    starts_at: datetime | None
    ends_at: datetime | None


def overview(consultation: Consultation, now: datetime) -> Overview:
    phases = consultation.phases
    return Overview(
        consultation,
        rules.phase_in_force(consultation, now),
        next((p for p in phases if p.starts_at > now), None),
        min((p.starts_at for p in phases), default=None),
        max((p.ends_at for p in phases), default=None),
    )


@dataclass
class Possibility:
    """One action of the consultation: open to this person now (refusal None), or why not."""

    action: str
    refusal: rules.Refusal | None


def offered_actions(consultation: Consultation) -> list[str]:
    """The actions of OFFERED that the consultation's timeline offers at all."""
    offered = {a for phase in consultation.phases for a in phase.actions}
    return [a for a in OFFERED if a in offered]


def possibilities(actor: Actor, consultation: Consultation) -> list[Possibility]:
    """What the person can do now, for the actions the consultation's timeline offers at all."""
    refused = rules.refusals(actor, consultation, offered_actions(consultation))
    return [Possibility(action, refusal) for action, refusal in refused.items()]


def comment_form_for(actor: Actor, consultation: Consultation, form_class: type[CommentForm] = CommentForm) -> Any:
    """A comment (or reply) form with the name field this person needs: their pseudonym if they have none yet,
    a guest's name if they comment without an account."""
    form = form_class()
    if actor.user is None or pseudonyms.get_pseudonym(actor.user.id) is not None:
        del form.pseudonym
    if actor.user is not None or consultation.audience != Audience.GUESTS:
        del form.guest_name
    return form


@dataclass
class ThreadOptions:
    """What the comment macros may offer: replying (commenting is open) and editing one's own recent comments."""

    can_comment: bool
    edit_after: datetime  # own comments written after this may still be edited
    here: str  # the page itself, to come back to after flagging a contribution
    max_depth: int = MAX_DEPTH  # no "Antworten" on a comment this deep


def thread_options(comment_refusal: rules.Refusal | None, here: str) -> ThreadOptions:
    """From the rules' answer for "comment" (asked once per page: each question may cost a query). `here` is the
    page's own address (not the POST's that may have rendered it)."""
    edit_after = utcnow() - timedelta(minutes=comments.edit_minutes())
    return ThreadOptions(comment_refusal is None, edit_after, here)


def _cursor_page(fetch: Any) -> Any:
    try:
        return fetch()
    except ParticipationError as error:  # a cursor or sort order that does not exist
        abort(error.status if error.status == 400 else 404)


@bp.get("/")
@access.public
@reads_alone
def index():
    return cached_pages.listing(overview_page)


def overview_page() -> Any:
    form = ListFilterForm(formdata=request.args)
    districts, topics = consultations.filter_options()
    form.offer(districts, topics)
    chosen = request.args.get("liste", "laufend")
    if chosen not in LISTS:
        chosen = "laufend"
    filters = {"district": form.stadtteil.data or None, "topic": form.thema.data or None}
    now = utcnow()
    if chosen == "vorhaben":
        found = consultations.list_consultations("open", now=now, **filters)
        found += consultations.list_consultations("upcoming", now=now, **filters)
    else:
        found = consultations.list_consultations(LISTS[chosen][0] or "open", now=now, **filters)
    return render_template(
        "participation/index.html",
        form=form,
        lists=LISTS,
        chosen=chosen,
        items=[overview(c, now) for c in found],
        args={"stadtteil": form.stadtteil.data or None, "thema": form.thema.data or None},
    )


@bp.get("/<slug>")
@access.public
@reads_alone
def consultation(slug: str):
    actor = current_actor()
    if actor.user is None:
        found = consultations.get_by_slug(actor, slug)
        return cached_pages.page(found, lambda: consultation_page(found))
    found, facts = viewers.consultation_with_facts(actor, slug)
    return shared_pages.page(
        actor,
        found,
        lambda: shared_pages.consultation_variant(actor, found, offered_actions(found), facts),
        lambda: consultation_page(found),
    )


def consultation_page(
    consultation: Consultation, *, comment_form: Any = None, message: str | None = None, status: int = 200
) -> Any:
    actor = current_actor()
    filters = ProposalFilterForm(formdata=request.args)
    filters.offer(consultation.categories)
    category = filters.kategorie.data or None
    page = _cursor_page(
        lambda: proposals.list_proposals(
            actor,
            consultation.id,
            order=filters.order,
            category=category,
            cursor=request.args.get("nach"),
            answered=filters.answered,
        )
    )
    thread = thread_html = None
    able = possibilities(actor, consultation)
    commenting = next((p for p in able if p.action == rules.COMMENT), None)
    options = thread_options(
        commenting.refusal if commenting else rules.refusal(actor, consultation, rules.COMMENT),
        url_for("participation.consultation", slug=consultation.slug),
    )
    if commenting is not None:
        cursor = request.args.get("kommentare")
        thread, thread_html = cached_pages.thread(
            actor,
            consultation,
            None,
            cursor,
            options,
            lambda: _cursor_page(lambda: comments.list_comments(actor, consultation.id, cursor=cursor)),
        )
    if comment_form is None and options.can_comment:
        comment_form = comment_form_for(actor, consultation)
    return render_template(
        "participation/consultation.html",
        consultation=consultation,
        overview=overview(consultation, utcnow()),
        possibilities=able,
        filters=filters,
        page=page,
        paged=bool(request.args.get("nach")),
        thread=thread,
        thread_html=thread_html,
        options=options,
        comment_form=comment_form,
        message=message,
        is_manager=rules.is_manager(actor, consultation.department_id),
        support_slot=shared_pages.support_slot if shared_pages.marking() else None,
    ), status


def load_proposal(slug: str, reference: str) -> tuple[Consultation, ProposalItem]:
    """The consultation at `slug` and its proposal `reference`, as this person may see them (else 404)."""
    consultation = consultations.get_by_slug(current_actor(), slug)
    return consultation, proposal_in(consultation, reference)


def proposal_in(consultation: Consultation, reference: str) -> ProposalItem:
    item = proposals.get_by_reference(current_actor(), reference, consultation_loaded=True)
    if item.proposal.consultation_id != consultation.id:
        abort(404)
    return item


@bp.get("/<slug>/vorschlaege/<reference>")
@access.public
@reads_alone
def proposal(slug: str, reference: str):
    actor = current_actor()
    if actor.user is None:
        consultation = consultations.get_by_slug(actor, slug)
        return cached_pages.page(
            consultation, lambda: proposal_page(consultation, proposal_in(consultation, reference))
        )
    consultation, facts = viewers.consultation_with_facts(actor, slug, reference)
    item = proposal_in(consultation, reference)
    return shared_pages.page(
        actor,
        consultation,
        lambda: shared_pages.proposal_variant(actor, consultation, item, facts),
        lambda: proposal_page(consultation, item),
    )


def proposal_page(
    consultation: Consultation,
    item: ProposalItem,
    *,
    comment_form: Any = None,
    message: str | None = None,
    status: int = 200,
) -> Any:
    actor = current_actor()
    proposal = item.proposal
    refused = rules.refusals(actor, consultation, (rules.COMMENT, rules.SUPPORT))
    comment_refusal = refused[rules.COMMENT]
    options = thread_options(
        comment_refusal, url_for("participation.proposal", slug=consultation.slug, reference=proposal.reference)
    )
    cursor = request.args.get("kommentare")
    thread, thread_html = cached_pages.thread(
        actor,
        consultation,
        proposal.id,
        cursor,
        options,
        lambda: _cursor_page(
            lambda: comments.list_comments(actor, consultation.id, proposal_id=proposal.id, cursor=cursor)
        ),
    )
    if comment_form is None and options.can_comment:
        comment_form = comment_form_for(actor, consultation)
    point = None
    if proposal.lat is not None and proposal.lon is not None:
        from portal.maps.geojson import point as make_point

        point = make_point(proposal.lat, proposal.lon)
    return render_template(
        "participation/proposal.html",
        consultation=consultation,
        item=item,
        proposal=proposal,
        point=point,
        history=answers.history_of(proposal),  # the official answer and progress notes
        image=images.image_of(actor, proposal),
        support_refusal=refused[rules.SUPPORT],
        comment_refusal=comment_refusal,
        thread=thread,
        thread_html=thread_html,
        paged=bool(request.args.get("kommentare")),
        options=options,
        comment_form=comment_form,
        message=message,
    ), status


@bp.get("/kommentare/<int:comment_id>")
@access.public
@reads_alone
def comment(comment_id: int):
    actor = current_actor()
    consultation = contributions.consultation_of_comment(actor, comment_id)
    return cached_pages.page(consultation, lambda: comment_page(contributions.get_comment(actor, comment_id)))


def comment_page(
    context: CommentInContext, *, reply_form: Any = None, message: str | None = None, status: int = 200
) -> Any:
    """A comment on its own page: its replies (paged), and the reply form where one may still answer."""
    actor = current_actor()
    consultation, comment_ = context.consultation, context.item.comment
    replies = _cursor_page(lambda: comments.list_replies(actor, comment_.id, cursor=request.args.get("antworten")))
    comment_refusal = rules.refusal(actor, consultation, comments.action_for(comment_))  # a draft's: comment_draft
    options = thread_options(comment_refusal, url_for("participation.comment", comment_id=comment_.id))
    answerable = options.can_comment and comment_.depth < MAX_DEPTH and comment_.state == ContributionState.PUBLISHED
    if reply_form is None and answerable:
        reply_form = comment_form_for(actor, consultation, ReplyForm)
    return render_template(
        "participation/comment.html",
        context=context,
        consultation=consultation,
        item=context.item,
        replies=replies,
        paged=bool(request.args.get("antworten")),
        options=options,
        answerable=answerable,
        reply_form=reply_form if answerable else None,
        comment_refusal=comment_refusal,
        message=message,
    ), status
