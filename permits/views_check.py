"""Check answers ("Angaben prüfen") with a change link per answer, then submission: the service checks everything
again, fixes reference and fee, and enqueues the acknowledgement in the same transaction; what is still missing is
listed with links to the sections that ask for it.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from permits.errors import PermitError, PermitInvalid
from permits.services import applications, quotes
from permits.views import bp, draft_fee
from permits.views_apply import FIELD_SECTION, SECTIONS, load_draft, required_kinds
from portal import access
from portal.actors import current_actor
from portal.forms import ConfirmForm

# --- check answers and submit -----------------------------------------------------------------------------------


@bp.route("/antraege/<public_id>/pruefen", methods=["GET", "POST"])
@access.signed_in
def check(public_id: str):
    application = load_draft(public_id)
    form = ConfirmForm()
    status = 200
    if form.validate_on_submit():
        try:
            applications.submit(current_actor(), application)
        except PermitInvalid as errors:
            missing = errors
            status = 422
        except PermitError as refused:
            flash(str(refused.message), "danger")
            return redirect(url_for(".case", public_id=public_id))
        else:
            return redirect(url_for(".submitted", public_id=public_id))
    else:
        missing = applications.check_complete(application, quotes.today_in_berlin())
    sections = {section.slug: section for section in SECTIONS}
    problems = [
        (message, url_for(sections[FIELD_SECTION.get(name, "nutzung")].endpoint, public_id=public_id))
        for name, messages in missing.as_text().items()
        for message in messages
    ]
    return render_template(
        "permits/check.html",
        application=application,
        form=form,
        problems=problems,
        fee=draft_fee(application),
        needed=required_kinds(application),
    ), status
