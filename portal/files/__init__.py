"""Uploaded files: one storage abstraction, content sniffing, limits per use, access-checked downloads."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Set up file storage for the app (filled in by the files part)."""
