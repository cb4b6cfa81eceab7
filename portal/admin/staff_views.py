"""Staff pages of the admin area: who works in a department, invitations, granting and revoking roles."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from portal import access
from portal.actors import Actor, current_actor
from portal.admin.forms import ConfirmForm, DepartmentRoleForm, GlobalRoleForm, RevokeRoleForm
from portal.admin.services import AdminError, role_labels
from portal.admin.services import staff as staff_services
from portal.admin.views import bp, show_error


def _department_page(actor: Actor, department_id: int, invite: Any = None, grant: Any = None) -> str:
    department, rows = staff_services.staff_of(actor, department_id)
    return render_template(
        "admin/staff.html",
        department=department,
        rows=rows,
        invitations=staff_services.pending_invitations(actor, department_id),
        invite_form=invite or DepartmentRoleForm(prefix="invite", formdata=None),
        grant_form=grant or DepartmentRoleForm(prefix="grant", formdata=None),
        action_form=ConfirmForm(),
        role_labels=role_labels(),
    )


def _global_page(actor: Actor, invite: Any = None, grant: Any = None) -> str:
    return render_template(
        "admin/staff.html",
        department=None,
        rows=staff_services.global_staff(actor),
        invitations=staff_services.pending_invitations(actor, None),
        invite_form=invite or GlobalRoleForm(prefix="invite", formdata=None),
        grant_form=grant or GlobalRoleForm(prefix="grant", formdata=None),
        action_form=ConfirmForm(),
        role_labels=role_labels(),
    )


def _back(department_id: int | None) -> Any:
    if department_id is None:
        return redirect(url_for("admin.global_staff"))
    return redirect(url_for("admin.department_staff", department_id=department_id))


def _page(actor: Actor, department_id: int | None, **forms: Any) -> str:
    if department_id is None:
        return _global_page(actor, **forms)
    return _department_page(actor, department_id, **forms)


def _role_form(department_id: int | None, prefix: str) -> GlobalRoleForm | DepartmentRoleForm:
    """The invite and grant forms offer the roles of the page they stand on: global or one department's."""
    return GlobalRoleForm(prefix=prefix) if department_id is None else DepartmentRoleForm(prefix=prefix)


def _invite(department_id: int | None) -> Any:
    actor = current_actor()
    form = _role_form(department_id, "invite")
    if form.validate_on_submit():
        try:
            invitation = staff_services.invite_staff(actor, form.email.data or "", form.role.data or "", department_id)
        except AdminError as error:
            show_error(form, error)
        else:
            flash(_("Die Einladung an %(email)s wurde verschickt.", email=invitation.email), "success")
            return _back(department_id)
    return _page(actor, department_id, invite=form)


def _grant(department_id: int | None) -> Any:
    actor = current_actor()
    form = _role_form(department_id, "grant")
    if form.validate_on_submit():
        try:
            user = staff_services.grant_role(actor, form.email.data or "", form.role.data or "", department_id)
        except AdminError as error:
            show_error(form, error)
        else:
            flash(
                _("%(email)s hat jetzt die Rolle %(role)s.", email=user.email, role=role_labels()[form.role.data]),
                "success",
            )
            return _back(department_id)
    return _page(actor, department_id, grant=form)


def _revoke(department_id: int | None) -> Any:
    form = RevokeRoleForm()
    if not form.validate_on_submit():
        abort(400)
    actor = current_actor()
    try:
        user = staff_services.revoke_role(actor, form.user_id.data, form.role.data, department_id)
    except AdminError as error:
        flash(str(error.message), "danger")
    else:
        role = role_labels().get(form.role.data, form.role.data)
        flash(_("%(email)s hat die Rolle %(role)s nicht mehr.", email=user.email, role=role), "success")
        if actor.user is not None and user.id == actor.user.id:
            # Whoever gave up their own role may no longer see the page they came from.
            return redirect(url_for("admin.index"))
    return _back(department_id)


@bp.get("/aemter/<int:department_id>/personal")
@access.staff
def department_staff(department_id: int):
    return _department_page(current_actor(), department_id)


@bp.post("/aemter/<int:department_id>/personal/einladen")
@access.staff
def department_invite(department_id: int):
    return _invite(department_id)


@bp.post("/aemter/<int:department_id>/personal/rolle-vergeben")
@access.staff
def department_grant(department_id: int):
    return _grant(department_id)


@bp.post("/aemter/<int:department_id>/personal/rolle-entziehen")
@access.staff
def department_revoke(department_id: int):
    return _revoke(department_id)


@bp.get("/personal")
@access.staff
def global_staff():
    return _global_page(current_actor())


@bp.post("/personal/einladen")
@access.staff
def global_invite():
    return _invite(None)


@bp.post("/personal/rolle-vergeben")
@access.staff
def global_grant():
    return _grant(None)


@bp.post("/personal/rolle-entziehen")
@access.staff
def global_revoke():
    return _revoke(None)


@bp.post("/einladungen/<int:invitation_id>/zurueckziehen")
@access.staff
def invitation_revoke(invitation_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        invitation = staff_services.revoke_invitation(current_actor(), invitation_id)
    except AdminError as error:
        flash(str(error.message), "danger")
        return redirect(url_for("admin.index"))
    flash(_("Die Einladung an %(email)s wurde zurückgezogen.", email=invitation.email), "success")
    return _back(invitation.department_id)
