"""Request and response schemas of the permits API (marshmallow, documented in the OpenAPI).

Requests are checked for shape only (types, sizes, no NUL bytes or lone surrogates, no unknown keys); the rules
(known use type and street, area > 0, end not before start) stay in permits.services, which answer with the same
field names and German messages as the web form.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma

INVALID_TEXT = "Der Text enthält ungültige Zeichen."
NUMBER_CAP = Decimal(10) ** 9  # far above every limit the services apply


def _plain_text(value: str) -> None:
    """No NUL bytes (PostgreSQL cannot store them) and no lone surrogates (no encoding can)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ma.ValidationError(INVALID_TEXT) from None
    if "\x00" in value:
        raise ma.ValidationError(INVALID_TEXT)


def _text(max_length: int, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=[ma.validate.Length(min=1, max=max_length), _plain_text], **kwargs)


class JsonNumber(ma.fields.Field):
    """A JSON number as Decimal: strings, booleans, NaN, infinities and absurd sizes are refused."""

    default_error_messages = {"invalid": "Bitte geben Sie eine Zahl an.", "too_large": "Die Zahl ist zu groß."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise self.make_error("invalid") from None
        if not number.is_finite():
            raise self.make_error("invalid")
        if abs(number) > NUMBER_CAP:
            raise self.make_error("too_large")
        return number

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else float(value)


class FeePreviewSchema(ma.Schema):
    use_type = _text(
        40, required=True, metadata={"description": "A use type's code, e.g. container", "example": "container"}
    )
    street = _text(
        200, required=True, metadata={"description": "The street's name (any usual spelling)", "example": "Markt"}
    )
    area_m2 = JsonNumber(required=True, metadata={"description": "Area in m² (> 0; two decimals count)", "example": 6})
    start = ma.fields.Date(required=True, metadata={"description": "First day, YYYY-MM-DD"})
    end = ma.fields.Date(required=True, metadata={"description": "Last day (inclusive), YYYY-MM-DD"})
    exemption = _text(
        40, load_default=None, metadata={"description": "Optional: the code of a fee exemption claimed (charitable)"}
    )


class FeeLineSchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "usage, minimum, exemption, administrative"})
    label = ma.fields.String()
    quantity = ma.fields.String(metadata={"description": "A decimal as text, e.g. 18 (m² × units)"})
    unit = ma.fields.String()
    unit_price_cents = ma.fields.Integer(allow_none=True)
    amount_cents = ma.fields.Integer(metadata={"description": "Negative for an exemption; the lines add up"})


class TariffRefSchema(ma.Schema):
    effective_from = ma.fields.Date(metadata={"description": "The day this tariff version took effect"})
    statute = ma.fields.String()


class UseTypeRefSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    unit = ma.fields.String(metadata={"description": "day, week or month: what the fee is charged per"})
    lead_working_days = ma.fields.Integer(metadata={"description": "Working days (Saxony) the office needs"})
    required_attachments = ma.fields.List(ma.fields.String())
    has_setup_teardown = ma.fields.Boolean()


class FeePreviewResultSchema(ma.Schema):
    total_cents = ma.fields.Integer(metadata={"example": 3940})
    currency = ma.fields.String(metadata={"example": "EUR"})
    breakdown = ma.fields.List(ma.fields.Nested(FeeLineSchema))
    tariff = ma.fields.Nested(TariffRefSchema)
    use_type = ma.fields.Nested(UseTypeRefSchema)
    zone = ma.fields.Integer()
    area_m2 = ma.fields.String(metadata={"description": "The area counted, two decimals"})
    days = ma.fields.Integer(metadata={"description": "Days from start to end, both counted"})
    units = ma.fields.Integer(metadata={"description": "Units begun (days, weeks or months)"})
    earliest_start = ma.fields.Date(
        metadata={"description": "The first day a use applied for today may begin (lead time in working days)"}
    )


class CaseListQuerySchema(ma.Schema):
    state = ma.fields.String(load_default=None, validate=[ma.validate.Length(max=24), _plain_text])
    q = ma.fields.String(load_default=None, validate=[ma.validate.Length(max=100), _plain_text])


class CaseDocumentSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "permit, refusal or fee_notice"})
    url = ma.fields.String(metadata={"description": "Where the signed-in applicant downloads the PDF"})


class CaseSchema(ma.Schema):
    """A permit case as its applicant sees it (the staff list adds the applicant's name)."""

    reference = ma.fields.String()
    state = ma.fields.String()
    use_type = ma.fields.String(allow_none=True)
    street = ma.fields.String()
    house_number = ma.fields.String()
    area_m2 = ma.fields.String(allow_none=True)
    start = ma.fields.Date(allow_none=True)
    end = ma.fields.Date(allow_none=True)
    submitted_at = ma.fields.DateTime(allow_none=True)
    fee_cents = ma.fields.Integer(allow_none=True)
    kassenzeichen = ma.fields.String(allow_none=True)
    valid_from = ma.fields.Date(allow_none=True)
    valid_until = ma.fields.Date(allow_none=True)
    conditions = ma.fields.String()
    request_note = ma.fields.String(metadata={"description": "What the department asked for (documents_requested)"})
    documents = ma.fields.List(ma.fields.Nested(CaseDocumentSchema))


class StaffCaseSchema(CaseSchema):
    applicant_name = ma.fields.String()
    applicant_email = ma.fields.String()
