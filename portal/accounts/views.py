"""Sign-in, registration, verification, password reset, two-factor authentication."""

from __future__ import annotations

from flask import Blueprint, abort

from portal import access

bp = Blueprint("accounts", __name__)


@bp.route("/anmelden", methods=["GET", "POST"])
@access.public
def login():
    abort(501)


@bp.route("/registrieren", methods=["GET", "POST"])
@access.public
def register():
    abort(501)


@bp.post("/abmelden")
@access.signed_in_before_mfa
def logout():
    abort(501)


@bp.route("/konto/zwei-faktor/einrichten", methods=["GET", "POST"])
@access.signed_in_before_mfa
def totp_setup():
    abort(501)
