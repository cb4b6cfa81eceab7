"""A consultation's contributions as files for staff through the API (routes on participation.api's blueprint):
one table as CSV (`?table=proposals|comments|supports|survey`) or every table as an XLSX workbook.

The same files as the staff pages' downloads (participation.services.exports): no person named, hidden items
marked and without their text, texts that look like formulas kept as text, each export audited. Who: those who
moderate the consultation (its department's consultation managers, moderators, platform admins), signed in
(session cookie) or with their personal token of the scope `participation`; anyone else gets 403.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from participation.api import ID, SCOPE, blp
from participation.services import exports
from portal import access
from portal.actors import current_actor
from portal.extensions import limiter
from portal.files.views import content_disposition

# The API's table names (English, like the rest of the API) → the exports' own (German, as in the file names).
TABLES = {"proposals": "vorschlaege", "comments": "kommentare", "supports": "unterstuetzungen", "survey": "umfrage"}
LIMIT = "30 per minute"  # a workbook of a large consultation takes seconds to write
FILE = {"type": "string", "format": "binary"}  # the route returns the file itself; the schema only documents it
WHO = "Those who moderate the consultation: its department's consultation managers, moderators, platform admins"


class ExportQuerySchema(ma.Schema):
    table = ma.fields.String(
        load_default="proposals",
        validate=ma.validate.OneOf(list(TABLES)),
        metadata={"description": "Which table: proposals (default), comments, supports or survey (the answers)"},
    )


def _file(export: exports.ExportFile) -> Response:
    # The temporary file is closed when the response is (wrap_file's wrapper closes it).
    response = Response(
        wrap_file(request.environ, export.stream), content_type=export.mimetype, direct_passthrough=True
    )
    response.content_length = export.size
    response.headers["Content-Disposition"] = content_disposition(export.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route(f"/consultations/<{ID}:consultation_id>/export.csv", methods=["GET"])
@blp.arguments(ExportQuerySchema, location="query")
@blp.response(
    200,
    FILE,
    description="One table as CSV: `;`-separated, UTF-8 with BOM, CRLF line ends; an attachment named "
    "`beteiligung-<slug>-<table>.csv`",
    content_type="text/csv",
)
@blp.alt_response(403, description=WHO + " may export; you are not one of them for this consultation")
@blp.alt_response(404, description="No such consultation")
@blp.alt_response(422, description="`table` is not one of proposals, comments, supports, survey")
@limiter.limit(LIMIT)
@access.token_or_signed_in(SCOPE)
def export_csv(args: dict[str, Any], consultation_id: int) -> Response:
    """One table of the consultation's contributions as CSV.

    No person is named (no account, e-mail, pseudonym or guest name; supports and survey answer sets are dated by
    day only). Every row has its state in words (veröffentlicht, wartet auf Freigabe, ausgeblendet); a hidden item
    keeps its row without title or text; a comment names its thread (`Thread`, `Antwort auf`). Column headers are
    fixed German words. Survey answers: managers get all of them; a moderator gets them once the results are
    public, without free texts. Each export is audited."""
    return _file(exports.export_csv(current_actor(), consultation_id, TABLES[args["table"]]))


@blp.route(f"/consultations/<{ID}:consultation_id>/export.xlsx", methods=["GET"])
@blp.response(
    200,
    FILE,
    description="Every table on a sheet of its own (Vorschläge, Kommentare, Unterstützungen, Umfrage); an "
    "attachment named `beteiligung-<slug>.xlsx`",
    content_type=exports.XLSX_MIMETYPE,
)
@blp.alt_response(403, description=WHO + " may export; you are not one of them for this consultation")
@blp.alt_response(404, description="No such consultation")
@limiter.limit(LIMIT)
@access.token_or_signed_in(SCOPE)
def export_xlsx(consultation_id: int) -> Response:
    """Every table of the consultation's contributions as an Excel workbook.

    The same tables and rules as `export.csv`, one sheet each; texts that look like formulas stay text. Each export
    is audited."""
    return _file(exports.export_xlsx(current_actor(), consultation_id))
