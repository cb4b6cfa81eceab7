"""A consultation's timeline: phases added, moved and (in a draft) removed by its managers.

Phases never overlap, so at any moment at most one is in force; their positions follow their start times. A
phase opens the actions of its kind (participation.rules.PHASE_ACTIONS) unless its manager chose others. Dates
may move while the consultation is published (real life), each change audited; a closed one stays as it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound

import participation.actions  # noqa: F401  (declares the audit actions)
from participation import rules
from participation.errors import ParticipationError
from participation.models import TITLE_MAX, Consultation, ConsultationState, Phase, PhaseKind
from participation.services.common import check_changeable, managed_consultation
from participation.text import plain_text
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.transaction import transaction

DESCRIPTION_MAX = 4000


def _phase_values(
    consultation: Consultation,
    phase_id: int | None,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str,
    actions: list[str] | None,
) -> dict[str, Any]:
    if kind not in {k.value for k in PhaseKind}:
        raise ParticipationError("kind", _l("Wählen Sie die Art der Phase."), "bad_kind")
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ParticipationError(name, _l("Geben Sie Datum und Uhrzeit an."), "bad_time")
    if ends_at <= starts_at:
        raise ParticipationError("ends_at", _l("Das Ende muss nach dem Beginn liegen."), "ends_before_start")
    chosen = rules.default_actions(kind) if actions is None else list(dict.fromkeys(actions))
    if any(action not in rules.ACTIONS for action in chosen):
        raise ParticipationError("actions", _l("Wählen Sie nur Aktionen aus der Liste."), "bad_actions")
    for other in consultation.phases:
        if other.id != phase_id and other.starts_at < ends_at and starts_at < other.ends_at:
            raise ParticipationError(
                "starts_at",
                _l("Die Phase überschneidet sich mit „%(title)s“.", title=other.title),
                "phases_overlap",
                409,
            )
    return {
        "kind": kind,
        "title": plain_text(title, "title", TITLE_MAX, multiline=False),
        "description": plain_text(description, "description", DESCRIPTION_MAX, required=False),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "actions": chosen,
    }


def _renumber(consultation: Consultation) -> None:
    for position, phase in enumerate(sorted(consultation.phases, key=lambda p: p.starts_at)):
        phase.position = position


def _record_phase(actor: Actor, consultation: Consultation, phase: Phase) -> None:
    audit.record(
        "participation.phase_saved",
        actor,
        target=consultation,
        slug=consultation.slug,
        phase=phase.id,
        kind=phase.kind,
        starts_at=phase.starts_at.isoformat(),
        ends_at=phase.ends_at.isoformat(),
        actions=list(phase.actions),
    )


def add_phase(
    actor: Actor,
    consultation_id: int,
    *,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    actions: list[str] | None = None,
) -> Phase:
    """Add a phase to the timeline; `actions` defaults to those of its kind (rules.PHASE_ACTIONS)."""
    with transaction():
        consultation = managed_consultation(actor, consultation_id)
        check_changeable(consultation)
        values = _phase_values(consultation, None, kind, title, starts_at, ends_at, description, actions)
        phase = Phase(**values)
        consultation.phases.append(phase)
        _renumber(consultation)
        db.session.flush()
        _record_phase(actor, consultation, phase)
    return phase


def update_phase(
    actor: Actor,
    phase_id: int,
    *,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    actions: list[str] | None = None,
) -> Phase:
    """Change a phase (its dates above all); `actions` None: those of its (possibly new) kind."""
    phase = db.session.get(Phase, phase_id)
    if phase is None:
        raise NotFound()
    with transaction():
        consultation = managed_consultation(actor, phase.consultation_id)
        check_changeable(consultation)
        values = _phase_values(consultation, phase.id, kind, title, starts_at, ends_at, description, actions)
        for name, value in values.items():
            setattr(phase, name, value)
        _renumber(consultation)
        _record_phase(actor, consultation, phase)
    return phase


def remove_phase(actor: Actor, phase_id: int) -> None:
    """Remove a phase from a draft's timeline (a published timeline only changes its dates)."""
    phase = db.session.get(Phase, phase_id)
    if phase is None:
        raise NotFound()
    with transaction():
        consultation = managed_consultation(actor, phase.consultation_id)
        if consultation.state != ConsultationState.DRAFT:
            raise ParticipationError(
                "phase", _l("Phasen eines veröffentlichten Verfahrens werden nicht entfernt."), "not_draft", 409
            )
        consultation.phases.remove(phase)
        _renumber(consultation)
        audit.record(
            "participation.phase_removed",
            actor,
            target=consultation,
            slug=consultation.slug,
            phase=phase_id,
            kind=phase.kind,
        )
