"""Downloads of stored files, only through an access check."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("files", __name__)
