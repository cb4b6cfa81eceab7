"""Downloads of stored files, only through an access check."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, request
from werkzeug.wsgi import wrap_file

from portal import access
from portal.actors import current_actor
from portal.files import services
from portal.files.errors import FileNotFound

bp = Blueprint("files", __name__)

# The content is the uploader's, never ours: no script, no plugin, no framing, even if a browser renders it.
DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


def content_disposition(filename: str) -> str:
    """attachment, with an ASCII fallback name for old clients and the real one as RFC 6266/8187 filename*."""
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    fallback = "".join(ch if ch.isprintable() and ch not in '"\\' else "_" for ch in fallback)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@bp.get("/dateien/<key>")
@access.signed_in
def download(key: str) -> Response:
    try:
        stored, stream = services.open_for_download(current_actor(), key)
    except FileNotFound:
        abort(404)  # unknown, erased and not-yours look the same
    response = Response(wrap_file(request.environ, stream), mimetype=stored.content_type, direct_passthrough=True)
    response.content_length = stored.size_bytes
    response.headers["Content-Disposition"] = content_disposition(stored.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
