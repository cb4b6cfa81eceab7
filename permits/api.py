"""JSON API of the permits service, under /api/v1/permits: the public fee preview and the use-type catalogue.

The preview calls the service the application form calls (permits.services.quotes), so both compute the same fee
and refuse the same input, with the field's name and German message as problem JSON. Rate-limited per client.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask_babel import get_locale

from permits.errors import PermitInvalid
from permits.models import UseType
from permits.schemas import FeePreviewResultSchema, FeePreviewSchema, UseTypeRefSchema
from permits.services import catalogue, quotes
from portal import access
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
