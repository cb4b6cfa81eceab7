"""Staff pages at /admin/datenzugriff: the catalogue (datasets and fields: the owning data steward; purposes
and legal bases: the dpo), access agreements (drafted by the consuming department, approved on the core's
/admin/freigaben pages by the owning data steward and the dpo) and break-glass (an official's emergency access).

The routes admit the roles that can use them; which dataset, agreement or session a person may see or change
is decided in the services (a clerk of another department gets 403 there).

One blueprint; this module holds it, the overview page and what the pages share. The routes are split by
journey: views_catalogue, views_agreements, views_breakglass (imported at the end, so they register on it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields import SelectChoice

from dataaccess.errors import DataAccessError
from dataaccess.services import breakglass, overview
from dataaccess.services.common import is_dpo
from portal import access
from portal.actors import current_actor

bp = Blueprint("dataaccess_staff", __name__, url_prefix="/admin/datenzugriff")

T = TypeVar("T")


def state_labels() -> dict[str, str]:
    return {
        "draft": _("Entwurf"),
        "submitted": _("zur Freigabe vorgelegt"),
        "approved": _("freigegeben, in Kraft"),
        "not_in_force": _("freigegeben, noch nicht in Kraft"),
        "expired": _("abgelaufen"),
        "rejected": _("abgelehnt"),
        "revoked": _("widerrufen"),
        "superseded": _("durch neuere Version ersetzt"),
    }


def refusal_labels() -> dict[str, str]:
    """The refusal codes of dataaccess.services.access.read, in words."""
    return {
        "agreement_required": _("keine Vereinbarung angegeben"),
        "no_agreement": _("Vereinbarung unbekannt"),
        "not_approved": _("Vereinbarung nicht freigegeben"),
        "not_in_force": _("Vereinbarung noch nicht in Kraft"),
        "expired": _("Vereinbarung abgelaufen"),
        "revoked": _("Vereinbarung widerrufen"),
        "superseded": _("Vereinbarung durch neuere Version ersetzt"),
        "wrong_department": _("liest nicht für das berechtigte Amt"),
        "invalid_subject": _("betroffene Person ungültig angegeben"),
        "unknown_subject": _("betroffene Person unbekannt"),
        "purpose_required": _("kein Zweck angegeben"),
        "purpose_not_allowed": _("Zweck nicht erlaubt"),
        "fields_required": _("keine Felder angegeben"),
        "field_not_allowed": _("Feld nicht erlaubt"),
        "invalid_input": _("ungültige Angabe"),
        "case_reference_required": _("Aktenzeichen fehlt"),
        "citizen_request_missing": _("Antrag der Person fehlt"),
        "rate_limited": _("zu viele Abrufe"),
        "breakglass_unknown": _("Notfallzugriff unbekannt"),
        "breakglass_not_yours": _("Notfallzugriff einer anderen Person"),
        "breakglass_expired": _("Notfallzugriff abgelaufen oder beendet"),
    }


def show_error(form: FlaskForm, error: DataAccessError) -> None:
    """The service's refusal next to its field, or as a message when no field of the form fits."""
    if error.field in form:
        field = form[error.field]
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "danger")


def saved(form: FlaskForm, save: Callable[[], T]) -> T | None:
    """What the service call `save` returns, or None with its refusal shown on the form (the page again)."""
    try:
        return save()
    except DataAccessError as error:
        show_error(form, error)
        return None


def redirect_with(message: str, endpoint: str, category: str = "success", **values: Any) -> Response:
    """The message for the next page, and a 303 to it (a reload does not post again)."""
    flash(message, category)
    return redirect(url_for(endpoint, **values), 303)


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    return [SelectChoice(value, str(label)) for value, label in pairs]


def form_status(form: FlaskForm) -> int:
    return 422 if form.errors else 200


@bp.get("/")
@access.staff
def index():
    actor = current_actor()
    return render_template(
        "dataaccess/staff/index.html",
        steward_departments=overview.steward_departments(actor),
        drafter_departments=overview.drafter_departments(actor),
        is_dpo=is_dpo(actor),
        may_breakglass=bool(breakglass.departments_for(actor)),
        own_sessions=breakglass.own_sessions(actor, limit=5),
        findings=breakglass.FINDINGS,
        category_label=breakglass.category_label,
    )


from dataaccess import (  # noqa: E402, F401  (routes on the same blueprint)
    views_agreements,
    views_breakglass,
    views_catalogue,
)
