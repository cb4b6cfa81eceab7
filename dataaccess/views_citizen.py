"""The citizen's pages: "Mein Konto → Datenzugriffe" (the access log and the open once-only requests) and the
once-only preview a service sends the citizen to before it fetches a document from another department.

    /konto/datenzugriffe/anfrage?agreement=DZV-2026-000001&purpose=SNU-PRUEFUNG&case=S-2026-000123&return=/antrag/4

"Ja" creates the request (one-off for this case, or standing) and returns to `return` with `datenabruf=ja`;
"Nein" returns with `datenabruf=nein` (the service then asks for an upload). `return` must be a path on this
site; otherwise the person lands on the Datenzugriffe page.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from dataaccess.errors import DataAccessError
from dataaccess.forms import ConsentForm
from dataaccess.services import citizen_log, citizen_requests, once_only
from portal import access
from portal.accounts.services.common import local_path
from portal.actors import current_actor
from portal.forms import ConfirmForm

bp = Blueprint("dataaccess_citizen", __name__)

RETURN_FLAG = "datenabruf"


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/konto/datenzugriffe")
@access.signed_in
def my_accesses():
    actor = current_actor()
    listing = citizen_log.entries_about(actor, request.args.get("page", 1, type=int) or 1)
    requests = citizen_log.open_requests_of(actor)
    return _no_store(
        Response(
            render_template(
                "dataaccess/citizen/my_accesses.html", listing=listing, requests=requests, revoke_form=ConfirmForm()
            )
        )
    )


@bp.post("/konto/datenzugriffe/antraege/<int:request_id>/widerrufen")
@access.signed_in
def revoke_request(request_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    citizen_requests.revoke_request(current_actor(), request_id)
    flash(_("Ihr Antrag auf Datenabruf ist widerrufen. Das Amt kann Ihre Daten dafür nicht mehr abrufen."), "success")
    return redirect(url_for("dataaccess_citizen.my_accesses"))


def _return_to(flag: str) -> str | None:
    """`return` with datenabruf=<flag> added, if it is a path on this site."""
    target = local_path(request.args.get("return"))
    if target is None:
        return None
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != RETURN_FLAG]
    query.append((RETURN_FLAG, flag))
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))


@bp.route("/konto/datenzugriffe/anfrage", methods=["GET", "POST"])
@access.signed_in
def consent():
    actor = current_actor()
    args = request.args
    try:
        preview = once_only.preview(actor, args.get("agreement"), args.get("purpose"), args.get("case"))
    except DataAccessError as error:
        response = Response(render_template("dataaccess/citizen/invalid_request.html", message=error.message))
        response.status_code = error.status
        return response
    form = ConsentForm()
    if form.validate_on_submit():
        if form.no.data:
            flash(_("Es werden keine Daten abgerufen. Laden Sie den Nachweis bitte selbst hoch."), "info")
            return redirect(_return_to("nein") or url_for("dataaccess_citizen.my_accesses"))
        once_only.consent(
            actor, preview.agreement, preview.purpose_code, preview.case_reference, standing=form.wants_standing()
        )
        flash(
            _("Danke. %(consumer)s darf die angezeigten Angaben nun bei %(owner)s abrufen.",
              consumer=preview.consumer, owner=preview.owner),
            "success",
        )  # fmt: skip
        return redirect(_return_to("ja") or url_for("dataaccess_citizen.my_accesses"))
    return _no_store(
        Response(
            render_template(
                "dataaccess/citizen/consent.html",
                preview=preview,
                form=form,
                back=local_path(args.get("return")),
            )
        )
    )
