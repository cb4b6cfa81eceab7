"""/controlling: the dashboard (charts and tables per month) and its CSV export."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from controlling import services
from controlling.services import VIEWER_ROLES, PeriodError
from portal import access
from portal.actors import current_actor
from portal.timeutil import to_berlin, utcnow

bp = Blueprint("controlling", __name__, url_prefix="/controlling")


@bp.get("/")
@access.roles(*VIEWER_ROLES)
def index():
    first, last = request.args.get("von"), request.args.get("bis")
    try:
        start, end = services.period(first, last)
    except PeriodError as error:
        return render_template("controlling/index.html", error=error, board=None, von=first, bis=last), 400
    board = services.dashboard(current_actor(), start, end)
    return render_template(
        "controlling/index.html",
        board=board,
        error=None,
        von=start.strftime("%Y-%m"),
        bis=end.strftime("%Y-%m"),
        formatted=services.formatted,
    )


@bp.get("/export.csv")
@access.roles(*VIEWER_ROLES)
def export():
    try:
        start, end = services.period(request.args.get("von"), request.args.get("bis"))
    except PeriodError as error:
        return Response(error.message, status=400, mimetype="text/plain")
    board = services.dashboard(current_actor(), start, end)
    name = f"controlling-{start:%Y-%m}-{end:%Y-%m}-{to_berlin(utcnow()):%Y%m%d}.csv"
    # A byte-order mark, so that spreadsheet programs read the umlauts as UTF-8.
    return Response(
        "\ufeff" + services.csv_text(board),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
