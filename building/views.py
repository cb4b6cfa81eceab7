"""/bauen: the citizen's building applications (read on their request, logged) and the advisory appointment."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_wtf import FlaskForm

from building import services
from portal import access
from portal.actors import current_actor

bp = Blueprint("building", __name__, url_prefix="/bauen")


def _advice_url() -> str | None:
    from flask import url_for

    service_id = services.advice_service_id()
    return url_for("appointments.book_services", leistung=service_id) if service_id is not None else None


@bp.get("/")
@access.signed_in
def index():
    return render_template("building/index.html", form=FlaskForm(), outcome=None, advice_url=_advice_url())


@bp.post("/")
@access.signed_in
def read_mine():
    form = FlaskForm()
    if not form.validate_on_submit():
        return render_template("building/index.html", form=form, outcome=None, advice_url=_advice_url()), 400
    outcome = services.my_applications(current_actor())
    return render_template("building/index.html", form=form, outcome=outcome, advice_url=_advice_url())
