"""The consultation managers' pages at /admin/beteiligung: their consultations, drafting and editing one, its
timeline of phases, and publishing, closing and archiving it (each after an "are you sure?" page).

The routes admit consultation managers (a department role) and platform admins; which consultation a person may
see or change is decided in the services (a manager of another department gets 403 there, an unknown id 404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields import SelectChoice

from participation import rules, text
from participation.errors import ParticipationError
from participation.manage_forms import (
    ConsultationForm,
    PhaseForm,
    PhaseKindForm,
    audience_labels,
    kind_labels,
    state_labels,
)
from participation.models import Consultation, ConsultationState, Phase, PhaseKind
from participation.reader_forms import ReaderForm
from participation.services import consultations, readers
from participation.services import phases as phase_service
from portal import access
from portal.actors import current_actor
from portal.forms import ConfirmForm

bp = Blueprint("participation_manage", __name__, url_prefix="/admin/beteiligung")

ROLES = (rules.MANAGER_ROLE, rules.ADMIN_ROLE)


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "state_labels": state_labels(),
        "kind_labels": kind_labels(),
        "audience_labels": audience_labels(),
        "action_labels": {action: str(label) for action, label in rules.ACTION_LABELS.items()},
        "phase_in_force": rules.phase_in_force,
    }


def show_error(form: FlaskForm, error: ParticipationError) -> None:
    """The service's refusal next to its field, or as a message when no field of the form fits."""
    name = error.field
    if name == "area_geojson" and "area_text" in form and (form["area_text"].data or "").strip():
        name = "area_text"  # the pasted GeoJSON is what the service refused
    if name in form:
        field = form[name]
        field.errors = [*field.errors, error.message]
    else:
        flash(str(error.message), "danger")


def form_status(form: FlaskForm) -> int:
    return 422 if form.errors else 200


def closed_redirect(consultation: Consultation) -> Response | None:
    """Back to the consultation with a message when it is closed or archived: its pages offer no changes then
    (the services refuse them anyway)."""
    if consultation.state in (ConsultationState.DRAFT, ConsultationState.PUBLISHED):
        return None
    flash(_("Ein abgeschlossenes Verfahren kann nicht mehr geändert werden."), "danger")
    return redirect(url_for("participation_manage.consultation_detail", consultation_id=consultation.id), 303)


def redirect_with(message: str, endpoint: str, **values: Any) -> Response:
    """The message for the next page, and a 303 to it (a reload does not post again)."""
    flash(message, "success")
    return redirect(url_for(endpoint, **values), 303)


def allowed_markup() -> str:
    """The body's safe subset in words, for the hint under the field (participation.text is the one list)."""
    return ", ".join(f"<{tag}>" for tag in sorted(text.ALLOWED_TAGS))


@bp.get("/")
@access.roles(*ROLES)
def index():
    actor = current_actor()
    return render_template(
        "participation/manage/index.html",
        consultations=consultations.managed_consultations(actor),
        may_create=bool(consultations.managed_departments(actor)),
    )


# --- a consultation's texts and settings --------------------------------------------------------------------


def _render_form(form: ConsultationForm, consultation: Consultation | None) -> tuple[str, int]:
    page = render_template(
        "participation/manage/consultation_form.html",
        form=form,
        consultation=consultation,
        allowed_markup=allowed_markup(),
    )
    return page, form_status(form)


@bp.route("/neu", methods=["GET", "POST"])
@access.roles(*ROLES)
def consultation_new():
    actor = current_actor()
    departments = consultations.managed_departments(actor)
    if not departments:
        abort(403)
    form = ConsultationForm()
    form.department_id.choices = [SelectChoice(d.id, d.name) for d in departments]
    if form.validate_on_submit():
        try:
            consultation = consultations.create_consultation(actor, form.department_id.data, form.draft())
        except ParticipationError as error:
            show_error(form, error)
        else:
            return redirect_with(
                _("Der Entwurf „%(title)s“ ist angelegt. Legen Sie jetzt die Phasen an.", title=consultation.title),
                "participation_manage.consultation_detail",
                consultation_id=consultation.id,
            )
    return _render_form(form, None)


@bp.get("/<int:consultation_id>")
@access.roles(*ROLES)
def consultation_detail(consultation_id: int):
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    return render_template(
        "participation/manage/consultation.html",
        consultation=consultation,
        readers=readers.readers_of(actor, consultation.id),
        reader_form=ReaderForm(formdata=None),
    )


@bp.route("/<int:consultation_id>/bearbeiten", methods=["GET", "POST"])
@access.roles(*ROLES)
def consultation_edit(consultation_id: int):
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    if (closed := closed_redirect(consultation)) is not None:
        return closed
    form = ConsultationForm(data=ConsultationForm.stored(consultation))
    del form.department_id  # a consultation stays with its department
    if form.validate_on_submit():
        try:
            consultations.update_consultation(actor, consultation.id, form.draft())
        except ParticipationError as error:
            show_error(form, error)
        else:
            return redirect_with(
                _("Die Angaben sind gespeichert."),
                "participation_manage.consultation_detail",
                consultation_id=consultation.id,
            )
    return _render_form(form, consultation)


# --- publish, close, archive ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """A change of a consultation's state: from which state, the service call, and its texts."""

    from_state: str
    move: Any
    heading: Any
    question: Any
    button: Any
    done: Any


STEPS = {
    "veroeffentlichen": Step(
        ConsultationState.DRAFT,
        consultations.publish,
        _l("Verfahren veröffentlichen"),
        _l(
            "Das Verfahren erscheint sofort öffentlich im Beteiligungsportal. Was Teilnehmende tun können, richtet "
            "sich ab jetzt nach den Phasen. Phasen können danach nur noch verschoben, nicht mehr entfernt werden."
        ),
        _l("Ja, veröffentlichen"),
        _l("Das Verfahren ist veröffentlicht."),
    ),
    "abschliessen": Step(
        ConsultationState.PUBLISHED,
        consultations.close,
        _l("Verfahren abschließen"),
        _l(
            "Danach kann niemand mehr Vorschläge einreichen, kommentieren oder unterstützen, gleich was die Phasen "
            "vorsehen, und die Angaben des Verfahrens lassen sich nicht mehr ändern. Das lässt sich nicht rückgängig "
            "machen."
        ),
        _l("Ja, abschließen"),
        _l("Das Verfahren ist abgeschlossen."),
    ),
    "archivieren": Step(
        ConsultationState.CLOSED,
        consultations.archive,
        _l("Verfahren archivieren"),
        _l(
            "Das Verfahren verschwindet aus den öffentlichen Listen; unter seiner Adresse bleibt es lesbar. Das lässt "
            "sich nicht rückgängig machen."
        ),
        _l("Ja, archivieren"),
        _l("Das Verfahren ist archiviert."),
    ),
}


@bp.route("/<int:consultation_id>/<any(veroeffentlichen, abschliessen, archivieren):step>", methods=["GET", "POST"])
@access.roles(*ROLES)
def consultation_step(consultation_id: int, step: str):
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    chosen = STEPS[step]
    detail = url_for("participation_manage.consultation_detail", consultation_id=consultation.id)
    if consultation.state != chosen.from_state:
        flash(_("Das ist in diesem Stand nicht möglich."), "danger")
        return redirect(detail, 303)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            chosen.move(actor, consultation.id)
        except ParticipationError as error:
            flash(str(error.message), "danger")
            return redirect(detail, 303)
        return redirect_with(
            str(chosen.done), "participation_manage.consultation_detail", consultation_id=consultation.id
        )
    return render_template(
        "participation/manage/confirm.html",
        consultation=consultation,
        heading=chosen.heading,
        question=chosen.question,
        button=chosen.button,
        form=form,
        danger=step != "veroeffentlichen",
    ), form_status(form)


# --- phases ---------------------------------------------------------------------------------------------------


def _phase_of(consultation: Consultation, phase_id: int) -> Phase:
    phase = next((p for p in consultation.phases if p.id == phase_id), None)
    if phase is None:
        abort(404)
    return phase


def _save_phase(form: PhaseForm, save: Any) -> bool:
    """Hand the form's values to `save` (add_phase or update_phase); False with the refusal shown on the form."""
    assert form.starts_at.data is not None and form.ends_at.data is not None  # InputRequired
    try:
        save(
            kind=form.kind.data or "",
            title=form.title.data or "",
            description=form.description.data or "",
            starts_at=form.starts_at.data.astimezone(UTC),
            ends_at=form.ends_at.data.astimezone(UTC),
            actions=list(form.actions.data or []),
        )
    except ParticipationError as error:
        show_error(form, error)
        return False
    return True


def _render_phase(form: PhaseForm, consultation: Consultation, phase: Phase | None) -> tuple[str, int]:
    page = render_template("participation/manage/phase_form.html", form=form, consultation=consultation, phase=phase)
    return page, form_status(form)


@bp.route("/<int:consultation_id>/phasen/neu", methods=["GET", "POST"])
@access.roles(*ROLES)
def phase_new(consultation_id: int):
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    if (closed := closed_redirect(consultation)) is not None:
        return closed
    if request.method == "GET":
        chooser = PhaseKindForm(request.args)
        if not request.args or not chooser.validate():
            return render_template(
                "participation/manage/phase_kind.html", form=chooser, consultation=consultation
            ), form_status(chooser)
        kind = PhaseKind(chooser.kind.data)
        # A timeline usually runs on without gaps: the new phase starts where the last one ends.
        last_end = max((p.ends_at for p in consultation.phases), default=None)
        form = PhaseForm(
            kind=kind.value, title=kind_labels()[kind], actions=rules.default_actions(kind), starts_at=last_end
        )
        return _render_phase(form, consultation, None)
    form = PhaseForm()
    if form.validate_on_submit():

        def add(**values: Any) -> Any:
            return phase_service.add_phase(actor, consultation.id, **values)

        if _save_phase(form, add):
            return redirect_with(
                _("Die Phase „%(title)s“ ist angelegt.", title=form.title.data),
                "participation_manage.consultation_detail",
                consultation_id=consultation.id,
            )
    return _render_phase(form, consultation, None)


@bp.route("/<int:consultation_id>/phasen/<int:phase_id>", methods=["GET", "POST"])
@access.roles(*ROLES)
def phase_edit(consultation_id: int, phase_id: int):
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    phase = _phase_of(consultation, phase_id)
    if (closed := closed_redirect(consultation)) is not None:
        return closed
    form = PhaseForm(obj=phase)
    if form.validate_on_submit():

        def update(**values: Any) -> Any:
            return phase_service.update_phase(actor, phase.id, **values)

        if _save_phase(form, update):
            return redirect_with(
                _("Die Phase „%(title)s“ ist gespeichert.", title=form.title.data),
                "participation_manage.consultation_detail",
                consultation_id=consultation.id,
            )
    return _render_phase(form, consultation, phase)


@bp.route("/<int:consultation_id>/phasen/<int:phase_id>/entfernen", methods=["GET", "POST"])
@access.roles(*ROLES)
def phase_remove(consultation_id: int, phase_id: int):
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    phase = _phase_of(consultation, phase_id)
    detail = url_for("participation_manage.consultation_detail", consultation_id=consultation.id)
    if consultation.state != ConsultationState.DRAFT:
        flash(_("Phasen eines veröffentlichten Verfahrens werden nicht entfernt, nur verschoben."), "danger")
        return redirect(detail, 303)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            phase_service.remove_phase(actor, phase.id)
        except ParticipationError as error:
            flash(str(error.message), "danger")
            return redirect(detail, 303)
        return redirect_with(
            _("Die Phase „%(title)s“ ist entfernt.", title=phase.title),
            "participation_manage.consultation_detail",
            consultation_id=consultation.id,
        )
    return render_template(
        "participation/manage/confirm.html",
        consultation=consultation,
        heading=_("Phase „%(title)s“ entfernen", title=phase.title),
        question=_("Die Phase wird aus dem Ablauf des Entwurfs entfernt."),
        button=_("Ja, Phase entfernen"),
        form=form,
        danger=True,
    ), form_status(form)
