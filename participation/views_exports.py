"""Downloads of a consultation's results for staff, under /admin/beteiligung/<id>/: its contributions as CSV (one
table per file, `?tabelle=vorschlaege|kommentare|unterstuetzungen`) or XLSX (all tables), and its council report
as PDF in the page's language.

The routes admit the roles that may moderate a consultation; participation.services.exports decides whether the
person may have this one (a manager of another department gets 403, an unknown consultation 404).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, request
from flask_babel import get_locale
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from participation import rules
from participation.services import exports, report
from participation.services.moderation import MODERATOR_ROLE
from portal import access
from portal.actors import current_actor
from portal.extensions import limiter
from portal.files.views import content_disposition

bp = Blueprint("participation_exports", __name__, url_prefix="/admin/beteiligung")

ROLES = (rules.MANAGER_ROLE, MODERATOR_ROLE, rules.ADMIN_ROLE)
LIMIT = "30 per minute"  # a workbook of a large consultation takes seconds to write


def _download(body: Iterable[bytes] | bytes, mimetype: str, filename: str, size: int) -> Response:
    response = Response(body, content_type=mimetype, direct_passthrough=True)
    response.content_length = size
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _file(export: exports.ExportFile) -> Response:
    # The temporary file is closed when the response is (wrap_file's wrapper closes it).
    return _download(wrap_file(request.environ, export.stream), export.mimetype, export.filename, export.size)


@bp.get("/<int:consultation_id>/export.csv")
@limiter.limit(LIMIT)
@access.roles(*ROLES)
def export_csv(consultation_id: int) -> Response:
    table = request.args.get("tabelle", exports.TABLE_NAMES[0])
    return _file(exports.export_csv(current_actor(), consultation_id, table))


@bp.get("/<int:consultation_id>/export.xlsx")
@limiter.limit(LIMIT)
@access.roles(*ROLES)
def export_xlsx(consultation_id: int) -> Response:
    return _file(exports.export_xlsx(current_actor(), consultation_id))


@bp.get("/<int:consultation_id>/bericht.pdf")
@limiter.limit(LIMIT)
@access.roles(*ROLES)
def council_report(consultation_id: int) -> Response:
    found = report.council_report(current_actor(), consultation_id, str(get_locale() or "de"))
    return _download(found.pdf, "application/pdf", found.filename, len(found.pdf))
