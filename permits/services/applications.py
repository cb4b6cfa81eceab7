"""A permit case from the applicant's draft to the clerk's decision and beyond.

- `start_application`: a draft owned by the person, or by the business they act for (Actor.organisation_id);
- `save_draft`: the form's data; what is given must be right, what is missing may come later;
- `submit`: every check (permits.services.validation), then the reference (SNU-YYYY-NNNNNN), and the fee under the
  tariff in force that day, stored with the tariff version so a later tariff does not change it;
- `withdraw`, `move`: state changes as permits.rules allows them, each audited with the states before and after.

Each function is one transaction with its audit event. The applicant is the subject of every event about their
case, so their account's log lists it.
"""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

import permits.actions  # noqa: F401  (declares the audit actions)
from permits import rules
from permits.errors import PermitError, PermitInvalid, PermitNotFound
from permits.models import PermitApplication, PermitAttachment, PermitState
from permits.services import notifications, validation
from permits.services.form_data import ApplicationData, apply_data
from permits.services.quotes import fee_for, today_in_berlin
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.services import get_department_by_slug
from portal.extensions import db
from portal.maps.normalise import clean
from portal.references import next_reference
from portal.timeutil import utcnow
from portal.transaction import transaction

REFERENCE_PREFIX = "SNU"
S = PermitState


def _subject(application: PermitApplication) -> int | None:
    return application.user_id


def _case(application: PermitApplication) -> str:
    return application.reference or f"draft:{application.public_id[:8]}"


def _department_id() -> int | None:
    department = get_department_by_slug(current_app.config.get("PERMITS_DEPARTMENT", "verkehr-tiefbau"))
    return department.id if department is not None else None


# --- reading ----------------------------------------------------------------------------------------------------


def may_see(actor: Actor, application: PermitApplication) -> bool:
    return rules.is_owner(actor, application) or rules.is_officer(actor, application)


def get_application(actor: Actor, public_id: str) -> PermitApplication:
    if not isinstance(public_id, str) or len(public_id) != 32 or not public_id.isalnum():
        raise PermitNotFound()
    application = db.session.scalar(sa.select(PermitApplication).where(PermitApplication.public_id == public_id))
    if application is None or not may_see(actor, application):
        raise PermitNotFound()
    return application


def applications_of(actor: Actor, limit: int = 100) -> list[PermitApplication]:
    """The actor's own cases (or, acting for a business, the business's), newest first."""
    if actor.user is None:
        return []
    if actor.organisation_id is not None:
        who = PermitApplication.organisation_id == actor.organisation_id
    else:
        who = sa.and_(PermitApplication.user_id == actor.user.id, PermitApplication.organisation_id.is_(None))
    return list(
        db.session.scalars(sa.select(PermitApplication).where(who).order_by(PermitApplication.id.desc()).limit(limit))
    )


# --- the applicant ----------------------------------------------------------------------------------------------


def start_application(actor: Actor, use_type: str | None = None) -> PermitApplication:
    """A new draft, owned by the actor or by the business they act for; prefilled with the account's name."""
    if actor.user is None:
        raise PermitError("applicant", _l("Bitte melden Sie sich an, um einen Antrag zu stellen."), "sign_in", 401)
    errors = PermitInvalid()
    found = validation.check_use_type(errors, use_type) if use_type is not None else None
    if errors:
        raise errors
    with transaction():
        application = PermitApplication(
            public_id=secrets.token_hex(16),
            user_id=actor.user.id,
            organisation_id=actor.organisation_id,
            department_id=_department_id(),
            use_type_id=found.id if found is not None else None,
            applicant_name=clean(actor.user.display_name or "", 200),
            applicant_email=actor.user.email,
        )
        db.session.add(application)
        audit.record(
            "permits.application_started",
            actor,
            target=application,
            subject_user_id=_subject(application),
            case=_case(application),
            use_type=found.code if found is not None else None,
        )
    return application


def _owned_draft(actor: Actor, application: PermitApplication) -> None:
    if not rules.is_owner(actor, application):
        raise PermitNotFound()
    if application.state not in rules.EDITABLE:
        raise PermitError("state", _l("Ein eingereichter Antrag kann nicht mehr geändert werden."), "not_editable", 409)


def save_draft(actor: Actor, application: PermitApplication, data: ApplicationData) -> PermitApplication:
    """Save what the applicant filled in. Missing parts may come later; wrong ones are refused (PermitInvalid)."""
    _owned_draft(actor, application)
    errors = PermitInvalid()
    with transaction():
        changed = apply_data(application, data, errors)
        if errors:
            raise errors  # rolls the changes back: the draft stays as it was
        if not changed:
            return application
        application.updated_at = utcnow()
        audit.record(
            "permits.application_saved",
            actor,
            target=application,
            subject_user_id=_subject(application),
            case=_case(application),
            fields=changed,
        )
    return application


def add_attachment(actor: Actor, application: PermitApplication, kind: str, file_key: str) -> PermitAttachment:
    """Attach a file the applicant uploaded (portal.files) as a document of `kind`."""
    from permits.attachments import KINDS
    from portal.files.errors import FileNotFound
    from portal.files.services import get_file

    if not rules.is_owner(actor, application):
        raise PermitNotFound()
    if application.state not in (S.DRAFT, S.DOCUMENTS_REQUESTED):
        raise PermitError("attachments", _l("Jetzt können keine Unterlagen nachgereicht werden."), "not_editable", 409)
    if kind not in KINDS:
        raise PermitError("attachments", _l("Diese Art von Unterlage gibt es nicht."), "unknown_kind")
    try:
        stored = get_file(actor, file_key)
    except FileNotFound:
        raise PermitError("attachments", _l("Diese Datei gibt es nicht."), "unknown_file") from None
    with transaction():
        attachment = PermitAttachment(kind=kind, file_key=stored.key, added_by=actor.user.id if actor.user else None)
        application.attachments.append(attachment)
        application.updated_at = utcnow()
        audit.record(
            "permits.application_saved",
            actor,
            target=application,
            subject_user_id=_subject(application),
            case=_case(application),
            fields=[f"attachments.{kind}"],
        )
    return attachment


def check_complete(application: PermitApplication, today: date) -> PermitInvalid:
    """Everything a submission needs, as field errors (empty when complete)."""
    errors = PermitInvalid()
    use_type = application.use_type
    if use_type is None or not use_type.active:
        validation.check_use_type(errors, use_type.code if use_type is not None else None)
        use_type = None
    for name, message in (
        ("applicant_name", _l("Bitte geben Sie den Namen der antragstellenden Person oder Firma an.")),
        ("applicant_email", _l("Bitte geben Sie eine E-Mail-Adresse an.")),
        ("responsible_name", _l("Bitte nennen Sie die verantwortliche Person vor Ort.")),
    ):
        if not getattr(application, name).strip():
            errors.add(name, message, "required")
    validation.check_street(errors, application.street)
    if application.area_dm2 is None:
        errors.add("area_m2", _l("Bitte geben Sie die Fläche an (Länge × Breite)."), "required")
    period_ok = validation.check_period(
        errors,
        application.starts_on,
        application.ends_on,
        setup_from=application.setup_from,
        teardown_until=application.teardown_until,
        use_type=use_type,
    )
    if use_type is not None:
        if period_ok and application.starts_on is not None:
            validation.check_lead_time(errors, use_type, application.starts_on, today, application.setup_from)
        required = list(use_type.required_attachments)
        reason = application.exemption_reason
        if reason is not None and reason.proof_required and "exemption_proof" not in required:
            required.append("exemption_proof")
        validation.check_attachments(errors, required, application.attached_kinds)
    return errors


def submit(actor: Actor, application: PermitApplication, *, today: date | None = None) -> PermitApplication:
    """Send the application: checks, reference, fee under today's tariff (stored with the case)."""
    today = today or today_in_berlin()
    if not rules.is_owner(actor, application):
        raise PermitNotFound()
    _check_move(actor, application, S.SUBMITTED)
    errors = check_complete(application, today)
    computed = None
    if not errors:
        assert application.use_type is not None and application.zone is not None
        assert application.area_dm2 is not None
        assert application.starts_on is not None and application.ends_on is not None
        computed = fee_for(
            errors,
            use_type=application.use_type,
            zone=application.zone,
            area_m2=Decimal(application.area_dm2) / 100,
            first_day=application.setup_from or application.starts_on,
            last_day=application.teardown_until or application.ends_on,
            today=today,
            exemption=application.exemption_reason,
        )
    if errors or computed is None:
        raise errors
    fee, tariff = computed
    with transaction():
        was = application.state
        application.reference = next_reference(REFERENCE_PREFIX)
        application.state = S.SUBMITTED.value
        application.tariff_id, application.tariff = tariff.id, tariff
        application.fee_cents = fee.total_cents
        application.fee_breakdown = fee.breakdown()
        now = utcnow()
        application.submitted_at = application.state_changed_at = application.updated_at = now
        audit.record(
            "permits.application_submitted",
            actor,
            target=application,
            subject_user_id=_subject(application),
            case=application.reference,
            was=was,
            state=application.state,
            fee_cents=fee.total_cents,
            tariff_effective_from=tariff.effective_from.isoformat(),
        )
        notifications.acknowledge_submission(application)  # the acknowledgement commits with the submission
    return application


def withdraw(actor: Actor, application: PermitApplication) -> PermitApplication:
    if not rules.is_owner(actor, application):
        raise PermitNotFound()
    _check_move(actor, application, S.WITHDRAWN)
    with transaction():
        _set_state(actor, application, S.WITHDRAWN, "permits.application_withdrawn")
    return application


def _check_move(actor: Actor, application: PermitApplication, new_state: str) -> None:
    refused = rules.refusal(actor, application, new_state)
    if refused is not None:
        raise PermitError("state", refused.message, refused.code, 409)


def _set_state(actor: Actor, application: PermitApplication, new_state: str, action: str, **details: Any) -> None:
    """The state change and its audit event, in the caller's transaction (rules checked before)."""
    was = application.state
    application.state = PermitState(new_state).value
    now = utcnow()
    application.state_changed_at = application.updated_at = now
    if application.state in (S.GRANTED, S.REFUSED):
        application.decided_at = now
    audit.record(
        action,
        actor,
        target=application,
        subject_user_id=_subject(application),
        case=_case(application),
        was=was,
        state=application.state,
        **details,
    )


# --- the department (and the system: payments, the calendar) ----------------------------------------------------


def move(actor: Actor, application: PermitApplication, new_state: str, note: str = "") -> PermitApplication:
    """Move a case as permits.rules allows the actor; the note (a request, reasons) goes into the audit trail."""
    if not may_see(actor, application) and actor.kind != "system":
        raise PermitNotFound()
    _check_move(actor, application, new_state)
    note = clean(note, 1000)
    with transaction():
        department = application.department_id
        _set_state(actor, application, new_state, "permits.application_moved", note=note, department_id=department)
    return application


def get_by_reference(actor: Actor, reference: str) -> PermitApplication:
    """A submitted case by its reference (SNU-2026-000042), for its applicant or a clerk; PermitNotFound else."""
    if not isinstance(reference, str) or not 1 <= len(reference) <= 24:
        raise PermitNotFound()
    application = db.session.scalar(sa.select(PermitApplication).where(PermitApplication.reference == reference))
    if application is None or not may_see(actor, application):
        raise PermitNotFound()
    return application
