"""The staff start page /arbeit: the work a person's roles give them (desk, queues, configuration), so staff do
not land on the citizen's "Mein Konto" after signing in."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from portal import access
from portal.actors import current_actor
from portal.admin.services import is_platform_admin, manageable_departments
from portal.admin.views import other_areas

bp = Blueprint("work", __name__, url_prefix="/arbeit")


@bp.get("/")
@access.staff
def index():
    actor = current_actor()
    return render_template(
        "admin/work.html",
        areas=other_areas(actor),
        administers=is_platform_admin(actor) or bool(manageable_departments(actor)),
        name=current_user.display_name or current_user.email,
    )
