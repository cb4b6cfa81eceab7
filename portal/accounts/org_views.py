"""Business accounts: list, create, members and invitations, and choosing to act for one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal import access
from portal.accounts.forms import InviteForm, OrganisationForm
from portal.accounts.services import organisations
from portal.accounts.services.common import AccountError, NotAllowedError, local_path
from portal.actors import current_actor
from portal.inputs import parse_int

bp = Blueprint("orgs", __name__, url_prefix="/organisationen")


@bp.app_context_processor
def acting_for() -> dict[str, Any]:
    """For the page header: `acting_organisation()` is the business the person acts for, or None.

    A function, so pages of people who act for nobody cost no query.
    """
    return {"acting_organisation": organisations.acting_organisation}


@bp.get("/")
@access.signed_in
def index():
    return render_template(
        "orgs/index.html",
        memberships=organisations.my_organisations(current_actor()),
        acting_id=organisations.acting_organisation_id(),
    )


@bp.route("/neu", methods=["GET", "POST"])
@access.signed_in
def create():
    form = OrganisationForm()
    if form.validate_on_submit():
        organisation = organisations.create_organisation(
            current_actor(), form.name.data or "", form.register_number.data
        )
        flash(_("Die Organisation ist angelegt. Sie sind ihre Inhaberin bzw. ihr Inhaber."), "success")
        return redirect(url_for(".detail", organisation_id=organisation.id))
    return render_template("orgs/new.html", form=form)


def _detail_page(organisation_id: int, invite_form: InviteForm, status: int = 200):
    actor = current_actor()
    try:
        membership = organisations.get_organisation(actor, organisation_id)
    except NotAllowedError:
        abort(404)
    return (
        render_template(
            "orgs/detail.html",
            membership=membership,
            members=organisations.members_of(actor, organisation_id),
            invitations=organisations.open_invitations(actor, organisation_id) if membership.role == "owner" else [],
            invite_form=invite_form,
            acting_id=organisations.acting_organisation_id(),
            me_id=actor.user.id if actor.user else None,
            service_links=current_app.extensions.get("stadtportal_organisation_links", []),
        ),
        status,
    )


@bp.get("/<int:organisation_id>")
@access.signed_in
def detail(organisation_id: int):
    return _detail_page(organisation_id, InviteForm(prefix="invite"))


@bp.post("/<int:organisation_id>/einladen")
@access.signed_in
def invite(organisation_id: int):
    form = InviteForm(prefix="invite")
    if form.validate_on_submit():
        try:
            organisations.invite_member(current_actor(), organisation_id, form.email.data or "")
        except NotAllowedError:
            abort(403)
        except AccountError as error:
            form.email.errors = [*form.email.errors, error.message]
        else:
            flash(_("Die Einladung an %(email)s ist verschickt.", email=form.email.data), "success")
            return redirect(url_for(".detail", organisation_id=organisation_id))
    return _detail_page(organisation_id, form, 422)


@bp.post("/<int:organisation_id>/einladungen/<int:invitation_id>/zurueckziehen")
@access.signed_in
def withdraw_invitation(organisation_id: int, invitation_id: int):
    try:
        invitation = organisations.withdraw_invitation(current_actor(), organisation_id, invitation_id)
    except NotAllowedError:
        abort(403)
    except AccountError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("Die Einladung an %(email)s ist zurückgezogen.", email=invitation.email), "success")
    return redirect(url_for(".detail", organisation_id=organisation_id))


@bp.post("/<int:organisation_id>/mitglieder/<int:member_id>/entfernen")
@access.signed_in
def remove_member(organisation_id: int, member_id: int):
    try:
        organisations.remove_member(current_actor(), organisation_id, member_id)
    except NotAllowedError:
        abort(403)
    except AccountError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("Das Mitglied ist entfernt."), "success")
    return redirect(url_for(".detail", organisation_id=organisation_id))


@bp.post("/<int:organisation_id>/mitglieder/<int:member_id>/inhaberschaft")
@access.signed_in
def transfer_ownership(organisation_id: int, member_id: int):
    try:
        member = organisations.transfer_ownership(current_actor(), organisation_id, member_id)
    except NotAllowedError:
        abort(403)
    except AccountError as error:
        flash(str(error.message), "danger")
    else:
        name = member.user.display_name or member.user.email
        flash(_("%(name)s ist jetzt Inhaberin bzw. Inhaber. Sie sind weiterhin Mitglied.", name=name), "success")
    return redirect(url_for(".detail", organisation_id=organisation_id))


@bp.post("/handeln")
@access.signed_in
def act():
    """Act for a business (organisation_id given) or for oneself again (empty)."""
    raw = request.form.get("organisation_id", "").strip()
    organisation_id = parse_int(raw, minimum=1)
    if raw and organisation_id is None:
        abort(400)
    try:
        organisation = organisations.set_acting_organisation(current_actor(), organisation_id)
    except NotAllowedError:
        abort(403)
    if organisation is None:
        flash(_("Sie handeln wieder für sich selbst."), "success")
    else:
        flash(_("Sie handeln jetzt für %(name)s.", name=organisation.name), "success")
    return redirect(local_path(request.form.get("next")) or url_for(".index"))
