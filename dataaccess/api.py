"""JSON API of data access between departments.

- GET  /api/v1/dataaccess/datasets   the catalogue (datasets, fields, categories; never records): a bearer token
                                     with the scope `dataaccess` (a department's specialist system, or a staff
                                     member's personal token); without a token 401. Staff in the browser use the
                                     staff pages instead.
- POST /api/v1/dataaccess/access     one read through dataaccess.services.access.read: 200 with the allowed
                                     fields, or problem JSON whose `code` names the rule that refused it (with
                                     the status of dataaccess.errors.REFUSAL_STATUS; 429 carries Retry-After).
                                     Every refusal is logged before it is answered.
- GET  /api/v1/me/data-access        the signed-in citizen's own access log (session cookie; a GET needs no
                                     CSRF token), the same entries as "Mein Konto → Datenzugriffe".
"""

from __future__ import annotations

from typing import Any

from flask import Response, url_for

from dataaccess.errors import AccessRefused
from dataaccess.schemas import (
    AccessRequestSchema,
    AccessResultSchema,
    DatasetListSchema,
    MyAccessPageSchema,
    PageQuerySchema,
)
from dataaccess.services import access as access_service
from dataaccess.services import catalogue, citizen_log
from portal import access
from portal.actors import current_actor
from portal.api.blueprint import Blueprint
from portal.errors import problem

blp = Blueprint(
    "dataaccess_api",
    __name__,
    url_prefix="/api/v1/dataaccess",
    description="Purpose-bound, logged reads of another department's data (token scope: dataaccess)",
)
me_blp = Blueprint(
    "dataaccess_me_api",
    __name__,
    url_prefix="/api/v1/me",
    description="The signed-in citizen's own data-access log (session)",
)


def _refused(error: AccessRefused) -> Response:
    extra: dict[str, Any] = {"code": error.code, "access_id": error.log_id, "audit_event": error.audit_event}
    if error.fields:
        extra["fields"] = error.fields
    response = problem(
        error.status,
        error.message,
        type_=f"dataaccess-{error.code}",
        errors={error.field: [error.message]},
        **extra,
    )
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _dataset_view(dataset: Any) -> dict[str, Any]:
    return {
        "key": dataset.key,
        "name": dataset.name,
        "description": dataset.description,
        "department": {"slug": dataset.department.slug, "name": dataset.department.name},
        "subject_kind": dataset.subject_kind,
        "retention_days": dataset.retention_days,
        "fields": [
            {
                "name": field.name,
                "label": field.label,
                "category": field.category,
                "category_label": str(catalogue.CATEGORIES.get(field.category, field.category)),
                "special_category": field.special_category,
            }
            for field in dataset.fields
        ],
    }


@blp.route("/datasets", methods=["GET"])
@blp.response(200, DatasetListSchema)
@access.token("dataaccess")
def list_datasets():
    """The catalogue: every active dataset with its owner and fields (name, label, personal-data category,
    special category). No records: reading data needs an agreement and `POST /access`."""
    return {"datasets": [_dataset_view(d) for d in catalogue.datasets_with_fields()]}


@blp.route("/access", methods=["POST"])
@blp.arguments(AccessRequestSchema)
@blp.response(200, AccessResultSchema)
@blp.alt_response(403, description="A rule refused it: `code` says which (wrong_department, expired, ...)")
@blp.alt_response(404, description="No such agreement (`no_agreement`) or account (`unknown_subject`)")
@blp.alt_response(422, description="Input missing or malformed (`purpose_required`, `fields_required`, ...)")
@blp.alt_response(429, description="The agreement's hourly limit is reached (`rate_limited`; see Retry-After)")
@access.token("dataaccess")
def read(data: dict[str, Any]):
    """Read the allowed fields of the records about `subject` under an agreement, for a purpose and a case.

    Checks the agreement is approved and in force, that this client reads for its consuming department, the
    purpose, the fields, the case reference (always required here), the citizen's own request where the
    agreement needs one, and the hourly limit. The access-log entry (part of the signed audit trail) is
    written in the same transaction as the read: if it cannot be written, nothing is returned. A refused
    attempt is logged too.
    """
    try:
        result = access_service.read(
            current_actor(),
            data["agreement"],
            data["purpose"],
            data["case_reference"],
            data["subject"],
            data["wanted"],
        )
    except AccessRefused as error:
        return _refused(error)
    return {
        "agreement": result.agreement,
        "version": result.version,
        "dataset": result.dataset,
        "purpose": result.purpose,
        "case_reference": result.case_reference,
        "fields": list(result.fields),
        "records": result.records,
        "access_id": result.log_id,
        "audit_event": result.audit_event,
        "accessed_at": result.accessed_at,
    }


@me_blp.route("/data-access", methods=["GET"])
@me_blp.arguments(PageQuerySchema, location="query", as_kwargs=True)
@me_blp.response(200, MyAccessPageSchema)
@access.signed_in
def my_data_access(page: int):
    """Which department read which of your data, when, why and on which legal basis (two years, newest first,
    25 per page), refused attempts included. Each entry names its audit event and whether a signed checkpoint
    covers it already; `proof_url` leads to its proof."""
    listing = citizen_log.entries_about(current_actor(), page)
    return {
        "entries": [
            {
                **entry.as_json(),
                "proof_url": None if entry.seq is None else url_for("audit.my_event", seq=entry.seq, _external=True),
            }
            for entry in listing.entries
        ],
        "total": listing.total,
        "page": listing.page,
        "pages": listing.pages,
        "since": listing.since,
    }
