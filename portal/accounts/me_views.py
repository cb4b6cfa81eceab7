"""Mein Konto: profile, security, data export, deletion."""

from __future__ import annotations

from flask import Blueprint, abort

from portal import access

bp = Blueprint("me", __name__, url_prefix="/konto")


@bp.get("/")
@access.signed_in
def index():
    abort(501)
