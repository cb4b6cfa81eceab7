"""Request and response schemas of the data-access API (marshmallow, documented in the OpenAPI).

The request schema checks only the shape (types, lengths, no NUL bytes or lone surrogates, no unknown keys).
Missing values pass through as None, so that the access function refuses them with its own code
(purpose_required, fields_required, case_reference_required, ...) and logs the refused attempt; a body of the
wrong shape never reaches it and is answered 422 without a log entry, as no data could have been read.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

SUBJECT_MAX = 100
ID_MAX = 2**31 - 1


def _plain_text(value: str) -> None:
    """No NUL bytes (PostgreSQL cannot store them) and no lone surrogates (no encoding can)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ma.ValidationError("Der Text enthält ungültige Zeichen.") from None
    if "\x00" in value:
        raise ma.ValidationError("Der Text enthält ungültige Zeichen.")


def _text(max_length: int, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=[ma.validate.Length(max=max_length), _plain_text], **kwargs)


class SubjectField(ma.fields.Field):
    """An account id (a positive integer, or its digits) for citizen datasets, a reference text for case files."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool):
            raise ma.ValidationError("Geben Sie eine Kontonummer oder ein Aktenzeichen an.")
        if isinstance(value, int):
            if not 0 < value <= ID_MAX:
                raise ma.ValidationError("Diese Kontonummer gibt es nicht.")
            return value
        if isinstance(value, str):
            _plain_text(value)
            if len(value) > SUBJECT_MAX:
                raise ma.ValidationError(f"Höchstens {SUBJECT_MAX} Zeichen.")
            return value
        raise ma.ValidationError("Geben Sie eine Kontonummer oder ein Aktenzeichen an.")


class AccessRequestSchema(ma.Schema):
    agreement = _text(
        40,
        required=True,
        metadata={
            "description": "The agreement's reference (the version in force is used)",
            "example": "DZV-2026-000001",
        },
    )
    purpose = _text(
        40, load_default=None, allow_none=True, metadata={"description": "A purpose code the agreement allows"}
    )
    case_reference = _text(
        200,
        load_default=None,
        allow_none=True,
        metadata={"description": "Your case this read is for (required for machine clients)", "example": "S-2026-1"},
    )
    subject = SubjectField(
        required=True,
        metadata={"description": "Citizen datasets: the account id; case datasets: the case-file reference"},
    )
    wanted = ma.fields.List(
        _text(64),
        data_key="fields",
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=200),
        metadata={"description": "The fields wanted; each must be allowed by the agreement"},
    )


class AccessResultSchema(ma.Schema):
    agreement = ma.fields.String(metadata={"description": "The agreement's reference"})
    version = ma.fields.Integer(metadata={"description": "The version of the agreement the read was made under"})
    dataset = ma.fields.String(metadata={"description": "The dataset's key"})
    purpose = ma.fields.String()
    case_reference = ma.fields.String(allow_none=True)
    field_names = ma.fields.List(
        ma.fields.String(),
        data_key="fields",
        attribute="fields",
        metadata={"description": "Exactly the fields each record carries"},
    )
    records = ma.fields.List(
        ma.fields.Dict(keys=ma.fields.String()), metadata={"description": "The records about the subject"}
    )
    access_id = ma.fields.Integer(metadata={"description": "The access-log entry"})
    audit_event = ma.fields.String(
        metadata={
            "description": "The key of the audit event recording this read. The event is chained (given its seq) "
            "within moments of the answer; the citizen's log shows it with its seq and proof."
        }
    )
    accessed_at = ma.fields.DateTime()


class FieldSchema(ma.Schema):
    name = ma.fields.String()
    label = ma.fields.String()
    category = ma.fields.String(metadata={"description": "Personal-data category (identity, case, financial, ...)"})
    category_label = ma.fields.String()
    special_category = ma.fields.Boolean(metadata={"description": "Art. 9/10 DSGVO data"})


class DatasetSchema(ma.Schema):
    key = ma.fields.String(metadata={"example": "bauordnung.baugenehmigungen"})
    name = ma.fields.String()
    description = ma.fields.String()
    department = ma.fields.Dict(keys=ma.fields.String(), metadata={"description": "The owner: slug and name"})
    subject_kind = ma.fields.String(metadata={"description": "citizen (account id) or case (case-file reference)"})
    retention_days = ma.fields.Integer()
    field_list = ma.fields.List(ma.fields.Nested(FieldSchema), data_key="fields", attribute="fields")


class DatasetListSchema(ma.Schema):
    datasets = ma.fields.List(ma.fields.Nested(DatasetSchema))


class PageQuerySchema(ma.Schema):
    page = ma.fields.Integer(
        load_default=1, validate=ma.validate.Range(min=1, max=100_000), metadata={"description": "Page (25 per page)"}
    )


class MyAccessEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    audit_seq = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "The audit event; /konto/protokoll/<seq> proves it (null for a moment while it is chained)"
        },
    )
    occurred_at = ma.fields.DateTime()
    outcome = ma.fields.String(metadata={"description": "granted or refused"})
    refusal_code = ma.fields.String(allow_none=True)
    outcome_text = ma.fields.String()
    department = ma.fields.String(allow_none=True, metadata={"description": "The department that read"})
    owner_department = ma.fields.String(allow_none=True)
    dataset = ma.fields.String(allow_none=True)
    field_list = ma.fields.List(ma.fields.Dict(keys=ma.fields.String()), data_key="fields", attribute="fields")
    purpose = ma.fields.String(allow_none=True)
    purpose_code = ma.fields.String(allow_none=True)
    legal_basis = ma.fields.String(allow_none=True)
    case_reference = ma.fields.String(allow_none=True)
    agreement = ma.fields.String(allow_none=True)
    by_machine = ma.fields.Boolean()
    record_count = ma.fields.Integer()
    sealed = ma.fields.Boolean(metadata={"description": "Already covered by a signed audit checkpoint"})
    proof_url = ma.fields.String(allow_none=True)


class MyAccessPageSchema(ma.Schema):
    entries = ma.fields.List(ma.fields.Nested(MyAccessEntrySchema))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    pages = ma.fields.Integer()
    since = ma.fields.DateTime(metadata={"description": "Entries since then (two years)"})
