"""JSON API of the permits service, under /api/v1/permits: the public fee preview and the use-type catalogue; a
case for its applicant (GET /applications/{case}) and the clerks' case list (GET /cases), by personal token with
the scope "permits" or from a signed-in browser.

The preview calls the service the application form calls (permits.services.quotes), so both compute the same fee
and refuse the same input, with the field's name and German message as problem JSON. Rate-limited per client.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, url_for
from flask_babel import get_locale

from permits.errors import PermitError, PermitInvalid, PermitNotFound
from permits.models import PermitApplication, UseType
from permits.schemas import (
    CaseListQuerySchema,
    CaseSchema,
    FeePreviewResultSchema,
    FeePreviewSchema,
    StaffCaseSchema,
    UseTypeRefSchema,
)
from permits.services import applications, catalogue, desk, quotes
from portal import access
from portal.actors import current_actor
from portal.api.blueprint import Blueprint
from portal.errors import problem
from portal.extensions import limiter

blp = Blueprint(
    "permits_api",
    __name__,
    url_prefix="/api/v1/permits",
    description="Special use of public roads (Sondernutzung): use types and the fee preview (public)",
)


def _limit() -> str:
    return str(current_app.config.get("PERMITS_PREVIEW_RATE_LIMIT", "60/minute"))


def _invalid(errors: PermitInvalid) -> Response:
    texts = errors.as_text()
    first = next(iter(texts))
    return problem(422, texts[first][0], type_="permit-invalid", errors=texts, codes=errors.codes)


def _use_type(use_type: UseType) -> dict[str, Any]:
    return {
        "code": use_type.code,
        "name": use_type.name(str(get_locale() or "de")),
        "unit": use_type.unit,
        "lead_working_days": use_type.lead_working_days,
        "required_attachments": list(use_type.required_attachments or []),
        "has_setup_teardown": use_type.has_setup_teardown,
    }


@blp.route("/use-types", methods=["GET"])
@blp.response(200, UseTypeRefSchema(many=True))
@access.public
@limiter.limit(_limit)
def list_use_types():
    """The use types one may apply for, with their fee unit, lead time and the documents they require."""
    return [_use_type(use_type) for use_type in catalogue.use_types()]


@blp.route("/fee-preview", methods=["POST"])
@blp.arguments(FeePreviewSchema)
@blp.response(200, FeePreviewResultSchema)
@blp.alt_response(422, description="A field is wrong: `errors` names it, `codes` says why (unknown_street, ...)")
@access.public
@limiter.limit(_limit)
def fee_preview(data: dict[str, Any]):
    """What a special use would cost if applied for today: total, the lines of the bill, the tariff version.

    fee = max(minimum, rate[use type, zone, unit] × m² × units begun) + administrative fee, then exemptions;
    the zone comes from the street, the tariff is the version in force today (Europe/Berlin). `end` is inclusive.
    """
    try:
        quote = quotes.preview(
            data["use_type"], data["street"], data["area_m2"], data["start"], data["end"], exemption=data["exemption"]
        )
    except PermitInvalid as errors:
        return _invalid(errors)
    return {
        "total_cents": quote.fee.total_cents,
        "currency": "EUR",
        "breakdown": quote.fee.breakdown(),
        "tariff": {"effective_from": quote.tariff.effective_from, "statute": quote.tariff.statute},
        "use_type": _use_type(quote.use_type),
        "zone": quote.zone,
        "area_m2": f"{quote.area_m2:.2f}",
        "days": quote.fee.days,
        "units": quote.fee.units,
        "earliest_start": quote.earliest_start,
    }


SCOPE = "permits"


def _case(application: PermitApplication, staff: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "reference": application.reference,
        "state": application.state,
        "use_type": application.use_type.code if application.use_type else None,
        "street": application.street,
        "house_number": application.house_number,
        "area_m2": f"{application.area_dm2 / 100:.2f}" if application.area_dm2 else None,
        "start": application.starts_on,
        "end": application.ends_on,
        "submitted_at": application.submitted_at,
        "fee_cents": application.fee_cents,
        "kassenzeichen": application.kassenzeichen,
        "valid_from": application.valid_from,
        "valid_until": application.valid_until,
        "conditions": application.conditions,
        "request_note": application.request_note,
        "documents": [
            {
                "kind": document.kind,
                "url": url_for("permits.document", public_id=application.public_id, kind=document.kind),
            }
            for document in application.documents
        ],
    }
    if staff:
        view.update(applicant_name=application.applicant_name, applicant_email=application.applicant_email)
    return view


@blp.route("/applications/<case>", methods=["GET"])
@blp.response(200, CaseSchema)
@blp.alt_response(404, description="No such case, or not yours")
@access.token_or_signed_in(SCOPE)
def get_case(case: str):
    """A submitted case by its reference, for its applicant (or the business they act for): state, fee,
    Kassenzeichen, validity, conditions, the department's request and the decision documents."""
    try:
        application = applications.get_by_reference(current_actor(), case)
    except PermitNotFound:
        return problem(404, "Diesen Antrag gibt es nicht.", type_="not-found")
    return _case(application)


@blp.route("/cases", methods=["GET"])
@blp.arguments(CaseListQuerySchema, location="query")
@blp.response(200, StaffCaseSchema(many=True))
@blp.alt_response(403, description="Not a permit clerk")
@blp.alt_response(422, description="Unknown state")
@access.token_or_signed_in(SCOPE)
def list_cases(args: dict[str, Any]):
    """The department's case list for permit clerks (newest first, at most 200): filter by `state`, search by
    case number or street with `q`."""
    try:
        cases = desk.case_list(current_actor(), args.get("state"), args.get("q"))
    except PermitNotFound:
        return problem(403, "Nur für die Sachbearbeitung Sondernutzung.", type_="forbidden")
    except PermitError as refused:
        return problem(
            422, str(refused.message), type_="permit-invalid", errors={refused.field: [str(refused.message)]}
        )
    return [_case(application, staff=True) for application in cases]
