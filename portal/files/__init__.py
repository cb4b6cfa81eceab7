"""Uploaded files: one storage abstraction, content sniffing, limits per use, access-checked downloads.

What a service author uses (see portal.files.uploads and portal.files.services for the details):

    from portal import files
    from portal.files.policy import MB, UploadPolicy

    SITE_PLAN = UploadPolicy(max_bytes=20 * MB, allowed_types={"application/pdf"}, max_pdf_pages=20)
    files.register_access_rule("permits.site_plan", lambda actor, f: is_clerk_of_case(actor, f))  # in register(app)
    stored = files.store_upload(actor, upload, SITE_PLAN, purpose="permits.site_plan", field="site_plan")
    files.download_url(stored)  # /dateien/<key>, or {{ file_url(stored) }} in a template
"""

from __future__ import annotations

from flask import Flask, current_app, request

from portal.files.errors import FileError, FileNotFound
from portal.files.policy import MB, UploadPolicy
from portal.files.services import (
    add_upload,
    can_read,
    check_upload,
    delete_file,
    discard_file,
    discard_files_of_user,
    download_url,
    erase_files_of_user,
    files_of_user,
    get_file,
    open_for_download,
    open_stored,
    register_access_rule,
    store_upload,
)

__all__ = [
    "MB",
    "FileError",
    "FileNotFound",
    "UploadPolicy",
    "add_upload",
    "can_read",
    "check_upload",
    "delete_file",
    "discard_file",
    "discard_files_of_user",
    "download_url",
    "erase_files_of_user",
    "files_of_user",
    "get_file",
    "init_app",
    "open_for_download",
    "open_stored",
    "register_access_rule",
    "store_upload",
]


def _cap_bodies_without_files() -> None:
    # Only multipart bodies carry files (spooled to disk by Werkzeug); a urlencoded or JSON body is read into
    # memory whole and parsed at once, so it gets the smaller cap. Runs before anything reads the body (CSRF).
    # Read from the raw header: most requests carry no body, and parsing the header here would cost more than
    # the check (Werkzeug's parsed `mimetype` is not cached on the request).
    environ = request.environ
    if not environ.get("CONTENT_LENGTH") and "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return  # no body to limit
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type and content_type.split(";", 1)[0].strip().lower() == "multipart/form-data":
        return
    cap = current_app.config.get("MAX_CONTENT_LENGTH_NO_FILES")
    if cap and (request.max_content_length is None or cap < request.max_content_length):
        request.max_content_length = cap


def init_app(app: Flask) -> None:
    """Set up the storage backend, the body limits, the template helper for download links, and `flask files`.

    MAX_CONTENT_LENGTH itself is enforced by Werkzeug: a larger body is refused with 413 (portal.errors renders
    it) from its Content-Length alone, before a byte of it is read or parsed.
    """
    from portal.files import cli, gdpr, storage

    storage.init_app(app)
    gdpr.register()
    app.before_request_funcs.setdefault(None, []).insert(0, _cap_bodies_without_files)
    app.jinja_env.globals["file_url"] = download_url
    cli.init_app(app)
