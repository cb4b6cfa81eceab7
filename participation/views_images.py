"""The images of published proposals, for everyone: /beteiligung/bilder/<key>.

Only while a published proposal of a public consultation shows the image (participation.services.images); a
pending or hidden proposal's image, an erased one and an unknown key all answer 404 alike. The content is the
participant's upload, served inline with the type its content was found to have, never sniffed, sandboxed, and
named after the proposal rather than the person's own file name (which may name them). Public content: no audit
event per view, and caches may keep it for a few minutes (a hidden proposal's image goes from them soon after).
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.wsgi import wrap_file

from participation.services import images
from portal import access
from portal.files.policy import KNOWN_TYPES
from portal.files.views import DOWNLOAD_CSP

bp = Blueprint("participation_images", __name__, url_prefix="/beteiligung/bilder")

CACHE_SECONDS = 300


@bp.get("/<key>")
@access.public
def image(key: str) -> Response:
    stored, reference = images.public_image(key)
    if stored.sha256 in request.if_none_match:
        response = Response(status=304)
    else:
        stream = images.open_public_image(stored)
        response = Response(wrap_file(request.environ, stream), mimetype=stored.content_type, direct_passthrough=True)
        response.content_length = stored.size_bytes
        extension = KNOWN_TYPES[stored.content_type].extensions[0]
        response.headers["Content-Disposition"] = f'inline; filename="{reference}{extension}"'
    response.set_etag(stored.sha256)
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
