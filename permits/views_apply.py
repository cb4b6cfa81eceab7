"""The draft application as a task list (GOV.UK "task list" pattern): each section is a page of its own, saved as a
draft when sent, then "Angaben prüfen" with change links, then submission.

A section is "erledigt" when the draft holds what it asks for. Two sections have no field that tells whether they
were answered (traffic: "neither" is a valid answer; the fee exemption is optional); for them the browser session
remembers that the person saved the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.fields import SelectChoice

from permits import attachments, forms
from permits.errors import PermitError, PermitInvalid, PermitNotFound
from permits.models import PermitApplication, PermitState
from permits.services import advice, applications, catalogue, quotes, validation
from permits.services.form_data import data_from
from permits.views import bp, draft_fee, load, metres, put_errors, take_upload
from portal import access
from portal.accounts.services.organisations import acting_organisation
from portal.actors import current_actor

SEEN = "sondernutzung_gesehen"
SEEN_MAX = 60
DONE, OPEN, OPTIONAL, BLOCKED = "done", "open", "optional", "blocked"
STATUS_TEXT = {
    DONE: _l("Erledigt"),
    OPEN: _l("Noch offen"),
    OPTIONAL: _l("Optional"),
    BLOCKED: _l("Noch nicht möglich"),
}
STATUS_BADGE = {DONE: "success", OPEN: "warning", OPTIONAL: "info", BLOCKED: "info"}


@dataclass(frozen=True)
class Section:
    slug: str
    endpoint: str
    title: Any


SECTIONS = [
    Section("antragsteller", ".applicant", _l("Antragsteller und verantwortliche Person")),
    Section("nutzung", ".use_type", _l("Art der Nutzung")),
    Section("ort", ".place", lazy_pgettext("permit place", "Ort")),
    Section("zeitraum", ".period", _l("Zeitraum und Fläche")),
    Section("verkehr", ".traffic", _l("Verkehr")),
    Section("unterlagen", ".documents", _l("Unterlagen")),
    Section("befreiung", ".exemption", _l("Gebührenbefreiung")),
]
# Which section asks for a field the service names in an error (for the links on the check page).
FIELD_SECTION = {
    "use_type": "nutzung",
    "applicant_name": "antragsteller",
    "applicant_email": "antragsteller",
    "responsible_name": "antragsteller",
    "street": "ort",
    "house_number": "ort",
    "location_geojson": "ort",
    "area_m2": "zeitraum",
    "length_m": "zeitraum",
    "width_m": "zeitraum",
    "start": "zeitraum",
    "end": "zeitraum",
    "setup_from": "zeitraum",
    "teardown_until": "zeitraum",
    "attachments": "unterlagen",
    "exemption_reason": "befreiung",
}


def _seen(application: PermitApplication, slug: str) -> bool:
    return f"{application.public_id}:{slug}" in (session.get(SEEN) or [])


def _mark_seen(application: PermitApplication, slug: str) -> None:
    marks = [m for m in (session.get(SEEN) or []) if isinstance(m, str)]
    mark = f"{application.public_id}:{slug}"
    if mark not in marks:
        session[SEEN] = [*marks, mark][-SEEN_MAX:]


def required_kinds(application: PermitApplication) -> list[str]:
    """The documents the draft needs: its use type's, and the proof when an exemption asks for one."""
    if application.use_type is None:
        return []
    kinds = list(application.use_type.required_attachments or [])
    reason = application.exemption_reason
    if reason is not None and reason.proof_required and "exemption_proof" not in kinds:
        kinds.append("exemption_proof")
    return kinds


def status_of(application: PermitApplication, slug: str) -> str:
    a = application
    if slug == "antragsteller":
        given = (a.applicant_name, a.applicant_email, a.applicant_address, a.responsible_name, a.responsible_phone)
        return DONE if all(value.strip() for value in given) else OPEN
    if slug == "nutzung":
        return DONE if a.use_type is not None else OPEN
    if slug == "ort":
        return DONE if a.street and a.zone is not None and a.house_number else OPEN
    if slug == "zeitraum":
        return DONE if a.starts_on and a.ends_on and a.area_dm2 else OPEN
    if slug == "verkehr":
        return DONE if a.carriageway_affected or a.footway_affected or _seen(a, slug) else OPEN
    if slug == "unterlagen":
        if a.use_type is None:
            return BLOCKED
        needed = required_kinds(a)
        if not needed:
            return OPTIONAL
        return DONE if set(needed) <= a.attached_kinds else OPEN
    if slug == "befreiung":
        return DONE if a.exemption_reason is not None or _seen(a, slug) else OPTIONAL
    raise ValueError(slug)


def load_draft(public_id: str) -> PermitApplication:
    """The draft, or a redirect to the case page once it is submitted (raised as an HTTP exception)."""
    application = load(public_id)
    if application.state != PermitState.DRAFT:
        abort(redirect(url_for(".case", public_id=public_id)))
    return application


def _onward(application: PermitApplication) -> Any:
    """Back to the task list, or to the check page when its "Ändern" link led here."""
    if request.args.get("zurueck") == "pruefen":
        return redirect(url_for(".check", public_id=application.public_id))
    return redirect(url_for(".task_list", public_id=application.public_id))


def _back_url(application: PermitApplication) -> str:
    if request.args.get("zurueck") == "pruefen":
        return url_for(".check", public_id=application.public_id)
    return url_for(".task_list", public_id=application.public_id)


def _save(application: PermitApplication, form: Any, values: dict[str, Any], aliases: dict[str, str] | None = None):
    """Save the section's values; on refusal the service's messages go next to the fields (None: saved)."""
    try:
        applications.save_draft(current_actor(), application, data_from(values))
    except PermitInvalid as errors:
        return put_errors(form, errors, aliases)
    except PermitNotFound:
        abort(404)
    except PermitError as refused:
        flash(str(refused.message), "warning")
        abort(redirect(url_for(".case", public_id=application.public_id)))
    return None


def _page(template: str, application: PermitApplication, form: Any, problems: list[str] | None = None, **extra: Any):
    status = 422 if (form.errors or problems) and request.method == "POST" else 200
    return render_template(
        template,
        application=application,
        form=form,
        problems=problems or [],
        back_url=_back_url(application),
        **extra,
    ), status


# --- the task list ----------------------------------------------------------------------------------------------


@bp.get("/antraege/<public_id>/aufgaben")
@access.signed_in
def task_list(public_id: str):
    application = load_draft(public_id)
    rows = [(section, status_of(application, section.slug)) for section in SECTIONS]
    return render_template(
        "permits/task_list.html",
        application=application,
        rows=rows,
        status_text=STATUS_TEXT,
        status_badge=STATUS_BADGE,
        open_count=sum(1 for _s, status in rows if status in (OPEN, BLOCKED)),
        fee=draft_fee(application),
        advice=advice.for_applicant(application),
    )


# --- the sections -----------------------------------------------------------------------------------------------


@bp.route("/antraege/<public_id>/antragsteller", methods=["GET", "POST"])
@access.signed_in
def applicant(public_id: str):
    application = load_draft(public_id)
    names = [
        "applicant_name",
        "applicant_address",
        "applicant_email",
        "applicant_phone",
        "responsible_name",
        "responsible_phone",
    ]
    data = None
    if request.method == "GET":
        data = {n: getattr(application, n) for n in names}
        if application.organisation_id is not None and status_of(application, "antragsteller") == OPEN:
            # A new draft carries the person's name; for a business the permit names the business.
            business = acting_organisation()
            if business is not None and business.id == application.organisation_id:
                data["applicant_name"] = business.name
    form = forms.ApplicantForm(data=data)
    problems = None
    if form.validate_on_submit():
        problems = _save(application, form, {n: (getattr(form, n).data or "").strip() for n in names})
        if problems is None:
            return _onward(application)
    return _page("permits/section_applicant.html", application, form, problems)


@bp.route("/antraege/<public_id>/nutzung", methods=["GET", "POST"])
@access.signed_in
def use_type(public_id: str):
    application = load_draft(public_id)
    data = None
    if request.method == "GET":
        data = {"use_type": application.use_type.code if application.use_type else None}
        data["description"] = application.description
    form = forms.UseTypeForm(data=data)
    offered = catalogue.use_types()
    locale = str(get_locale() or "de")
    form.use_type.choices = [
        SelectChoice(
            u.code,
            _("%(name)s – mindestens %(days)s Arbeitstage Vorlauf", name=u.name(locale), days=u.lead_working_days),
        )
        for u in offered
    ]
    problems = None
    if form.validate_on_submit():
        problems = _save(application, form, {"use_type": form.use_type.data, "description": form.description.data})
        if problems is None:
            return _onward(application)
    return _page("permits/section_use_type.html", application, form, problems, use_types=offered)


@bp.route("/antraege/<public_id>/ort", methods=["GET", "POST"])
@access.signed_in
def place(public_id: str):
    application = load_draft(public_id)
    data = None
    if request.method == "GET":
        data = {
            "street": application.street,
            "house_number": application.house_number,
            "location_geojson": application.location_geojson,
        }
    form = forms.PlaceForm(data=data)
    problems = None
    if form.validate_on_submit():
        geometry = form.location_geojson.data
        values = {
            "street": form.street.data.strip(),
            "house_number": form.house_number.data.strip(),
            "location_geojson": geometry.to_json() if geometry is not None else "",
        }
        problems = _save(application, form, values)
        if problems is None:
            return _onward(application)
    return _page("permits/section_place.html", application, form, problems)


@bp.route("/antraege/<public_id>/zeitraum", methods=["GET", "POST"])
@access.signed_in
def period(public_id: str):
    application = load_draft(public_id)
    use = application.use_type
    data = None
    if request.method == "GET":
        data = {
            "start": application.starts_on,
            "end": application.ends_on,
            "setup_from": application.setup_from,
            "teardown_until": application.teardown_until,
            "length_m": metres(application.length_cm),
            "width_m": metres(application.width_cm),
        }
    form = forms.PeriodForm(data=data)
    events = use is not None and use.has_setup_teardown
    problems = None
    if form.validate_on_submit():
        values: dict[str, Any] = {
            "start": form.start.data,
            "end": form.end.data,
            "length_m": form.length_m.data,
            "width_m": form.width_m.data,
        }
        if events:
            # No set-up day given: set-up begins with the use itself (the service keeps a date once set).
            values["setup_from"] = form.setup_from.data or form.start.data
            values["teardown_until"] = form.teardown_until.data or form.end.data
        early = PermitInvalid()
        start, end = form.start.data, form.end.data
        if use is not None and start is not None and end is not None and start <= end:
            validation.check_lead_time(early, use, start, quotes.today_in_berlin(), values.get("setup_from"))
        if early:
            problems = put_errors(form, early)
        else:
            problems = _save(application, form, values, {"area_m2": "length_m"})
            if problems is None:
                return _onward(application)
    earliest = validation.earliest_start(use, quotes.today_in_berlin()) if use is not None else None
    return _page("permits/section_period.html", application, form, problems, events=events, earliest=earliest)


@bp.route("/antraege/<public_id>/verkehr", methods=["GET", "POST"])
@access.signed_in
def traffic(public_id: str):
    application = load_draft(public_id)
    data = None
    if request.method == "GET":
        data = {
            "carriageway_affected": application.carriageway_affected,
            "footway_affected": application.footway_affected,
        }
    form = forms.TrafficForm(data=data)
    problems = None
    if form.validate_on_submit():
        values = {
            "carriageway_affected": bool(form.carriageway_affected.data),
            "footway_affected": bool(form.footway_affected.data),
        }
        problems = _save(application, form, values)
        if problems is None:
            _mark_seen(application, "verkehr")
            return _onward(application)
    return _page("permits/section_traffic.html", application, form, problems)


@bp.route("/antraege/<public_id>/befreiung", methods=["GET", "POST"])
@access.signed_in
def exemption(public_id: str):
    application = load_draft(public_id)
    reasons = catalogue.exemption_reasons()
    data = None
    if request.method == "GET":
        chosen = application.exemption_reason
        data = {
            "exemption_reason": chosen.code if chosen else ("none" if _seen(application, "befreiung") else None),
            "exemption_note": application.exemption_note,
        }
    form = forms.ExemptionForm(data=data)
    locale = str(get_locale() or "de")
    form.exemption_reason.choices = [SelectChoice("none", _("Nein, ich beantrage keine Befreiung"))] + [
        SelectChoice(r.code, _("Ja: %(reason)s", reason=r.name(locale))) for r in reasons
    ]
    problems = None
    if form.validate_on_submit():
        code = "" if form.exemption_reason.data == "none" else form.exemption_reason.data
        note = (form.exemption_note.data or "").strip() if code else ""
        problems = _save(application, form, {"exemption_reason": code, "exemption_note": note})
        if problems is None:
            _mark_seen(application, "befreiung")
            return _onward(application)
    return _page("permits/section_exemption.html", application, form, problems, reasons=reasons)


def _upload_form(application: PermitApplication, *, posted: bool = False) -> forms.UploadForm:
    # Flask-WTF reads request.form and request.files together only when it picks the form data itself.
    form = forms.UploadForm() if posted else forms.UploadForm(formdata=None)
    needed = required_kinds(application)
    missing = [kind for kind in needed if kind not in application.attached_kinds]
    order = missing + [k for k in needed if k not in missing] + [k for k in attachments.KINDS if k not in needed]
    form.kind.choices = [SelectChoice(code, attachments.KINDS[code].label) for code in order]
    if not posted and missing:
        form.kind.data = missing[0]
    return form


@bp.route("/antraege/<public_id>/unterlagen", methods=["GET", "POST"])
@access.signed_in
def documents(public_id: str):
    application = load_draft(public_id)
    if request.method == "POST":
        form = _upload_form(application, posted=True)
        if form.validate_on_submit() and take_upload(application, form):
            flash(_("Die Datei ist hochgeladen."), "success")
            back: dict[str, Any] = {"zurueck": "pruefen"} if request.args.get("zurueck") == "pruefen" else {}
            return redirect(url_for(".documents", public_id=public_id, **back))
    else:
        form = _upload_form(application)
    return _page(
        "permits/section_documents.html",
        application,
        form,
        needed=required_kinds(application),
        kinds=attachments.KINDS,
    )


from permits import views_check  # noqa: E402, F401  (check answers and submit, on the same blueprint)
