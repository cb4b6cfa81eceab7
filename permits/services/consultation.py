"""Consulting another office about a case through the data-access module: the building authority's record.

The clerk reads the building permits held by the building authority about the applicant, under an access
agreement of the clerk's department for the purpose "Prüfung Sondernutzung" (setting PERMITS_CONSULT_PURPOSE),
with the case number as the reference. The read goes through dataaccess.services.access.read, the one function for
such reads: it checks the agreement, logs the access with the applicant as subject (so it shows in their access
log, /konto/datenzugriffe) and audits it. Records at another address are left out of what the clerk is shown.
Nothing read is stored with the case; the case moves to "consultation" (audited) when it was in the formal check.

Where the agreement lets the read through only on the citizen's own request (once-only), the applicant's case page
offers that request for this case (`once_only_offer`): the data-access module's preview shows what, from whom and
for which purpose, and a one-off request names the case number, so the clerk's read for this case uses it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from permits import rules
from permits.errors import PermitError, PermitNotFound
from permits.models import PermitApplication, PermitState
from permits.services.applications import _check_move, _set_state
from permits.services.quotes import today_in_berlin
from portal.actors import Actor
from portal.maps.normalise import street_key
from portal.transaction import transaction

S = PermitState
WANTED = ("aktenzeichen", "vorhaben", "grundstueck", "status", "erteilt_am")
CONSULTABLE = frozenset({S.FORMAL_CHECK, S.CONSULTATION, S.DOCUMENTS_REQUESTED})
# The applicant may still ask for the read while the clerk has not decided.
OFFERED = CONSULTABLE | {S.SUBMITTED}


@dataclass(frozen=True)
class Consultation:
    agreement: str
    fields: tuple[str, ...]
    records: list[dict[str, Any]]
    log_id: int


@dataclass(frozen=True)
class OnceOnlyOffer:
    """The read the applicant may ask for: the agreement and purpose for the data-access module's preview."""

    agreement: str
    purpose: str
    case_reference: str
    asked: bool  # an open request for this case (or a standing one) exists already


def _settings() -> tuple[str, str]:
    config = current_app.config
    return (
        config.get("PERMITS_BUILDING_DATASET", "bauordnung.baugenehmigungen"),
        config.get("PERMITS_CONSULT_PURPOSE", "SNU-PRUEFUNG"),
    )


def once_only_offer(actor: Actor, application: PermitApplication) -> OnceOnlyOffer | None:
    """The once-only request the applicant can give for this case, or None when there is nothing to ask for:
    the data-access service is off, no agreement in force needs the citizen's request, the case is decided, or
    the reader is not the applicant in person (a request is the person's own, never a business's)."""
    if "dataaccess_citizen" not in current_app.blueprints:
        return None
    from dataaccess.errors import DataAccessError
    from dataaccess.services import once_only

    if application.state not in OFFERED or application.reference is None or application.department_id is None:
        return None
    if actor.user is None or actor.on_behalf_of is not None or actor.user.id != application.user_id:
        return None
    dataset, purpose = _settings()
    reference = once_only.agreement_requiring_request(application.department_id, dataset, purpose)
    if reference is None:
        return None
    try:
        asked = once_only.has_request(actor, reference, purpose, application.reference)
    except DataAccessError:
        return None
    return OnceOnlyOffer(reference, purpose, application.reference, asked)


def _agreement(actor: Actor, application: PermitApplication) -> Any:
    """The approved agreement in force of the case's department for the building dataset and the purpose."""
    from dataaccess.services import overview

    key = current_app.config.get("PERMITS_BUILDING_DATASET", "bauordnung.baugenehmigungen")
    purpose = current_app.config.get("PERMITS_CONSULT_PURPOSE", "SNU-PRUEFUNG")
    today = today_in_berlin()
    for agreement in overview.visible_agreements(actor, state="approved", department_id=application.department_id):
        if (
            agreement.dataset.key == key
            and agreement.consumer_department_id == application.department_id
            and purpose in agreement.purposes
            and agreement.valid_from <= today <= agreement.valid_to
        ):
            return agreement
    return None


def _same_address(record: dict[str, Any], application: PermitApplication) -> bool:
    address = str(record.get("grundstueck") or "")
    if not address:
        return True  # the agreement does not give the address: the clerk judges
    return street_key(application.street) in street_key(address)


def consult_building_authority(actor: Actor, application: PermitApplication) -> Consultation:
    """Read the building authority's records about the applicant for this case (logged for the applicant)."""
    from dataaccess.errors import AccessRefused
    from dataaccess.services import access

    if not rules.is_officer(actor, application):
        raise PermitNotFound()
    if application.state not in CONSULTABLE or application.user_id is None:
        raise PermitError("state", _l("In diesem Stand werden keine anderen Ämter beteiligt."), "not_consultable", 409)
    agreement = _agreement(actor, application)
    if agreement is None:
        raise PermitError(
            "consultation",
            _l("Es gibt keine gültige Vereinbarung für den Abruf beim Bauordnungsamt."),
            "no_agreement",
            409,
        )
    fields = [name for name in WANTED if name in agreement.fields]
    purpose = current_app.config.get("PERMITS_CONSULT_PURPOSE", "SNU-PRUEFUNG")
    try:
        result = access.read(actor, agreement.reference, purpose, application.reference, application.user_id, fields)
    except AccessRefused as refused:
        message = refused.message
        if refused.code == "citizen_request_missing":
            message = _l(
                "Die Vereinbarung erlaubt den Abruf nur auf Antrag der antragstellenden Person. Sie hat ihn für "
                "diesen Fall noch nicht gestellt; ihre Antragsseite bietet ihn ihr an."
            )
        raise PermitError("consultation", message, refused.code, 409) from None
    if application.state == S.FORMAL_CHECK:
        _check_move(actor, application, S.CONSULTATION)
        with transaction():
            _set_state(
                actor,
                application,
                S.CONSULTATION,
                "permits.application_moved",
                note=f"Abruf {agreement.reference} (Protokoll {result.log_id})",
                department_id=application.department_id,
            )
    return Consultation(
        agreement.reference,
        result.fields,
        [record for record in result.records if _same_address(record, application)],
        result.log_id,
    )
