"""The applicant tidying up: removing a wrong attachment, deleting a draft (permits.services.drafts holds the rules).
POST only, with the CSRF token of a confirm form; somebody else's case is a 404."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _

from permits.errors import PermitError
from permits.models import PermitState
from permits.services import drafts
from permits.views import bp, load
from portal import access
from portal.actors import current_actor
from portal.forms import ConfirmForm


@bp.post("/antraege/<public_id>/anlagen/<int:attachment_id>/entfernen")
@access.signed_in
def remove_attachment(public_id: str, attachment_id: int):
    application = load(public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    back = ".documents" if application.state == PermitState.DRAFT else ".case"
    try:
        drafts.remove_attachment(current_actor(), application, attachment_id)
    except PermitError as refused:
        if refused.status == 404:
            abort(404)
        flash(str(refused.message), "danger")
    else:
        flash(_("Die Unterlage ist entfernt."), "success")
    return redirect(url_for(back, public_id=public_id))


@bp.post("/antraege/<public_id>/loeschen")
@access.signed_in
def delete_draft(public_id: str):
    application = load(public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        drafts.delete_draft(current_actor(), application)
    except PermitError as refused:
        flash(str(refused.message), "danger")
        return redirect(url_for(".case", public_id=public_id))
    flash(_("Der Entwurf ist gelöscht."), "success")
    return redirect(url_for(".mine"))
