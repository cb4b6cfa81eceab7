"""The audit trail on screen: the filtered trail for platform admins and the DPO, and "Mein Protokoll"."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request

from portal import access
from portal.actors import current_actor
from portal.audit import proofs, queries
from portal.audit.forms import AuditFilterForm
from portal.extensions import limiter

bp = Blueprint("audit", __name__)


def _page_number() -> int:
    return request.args.get("page", 1, type=int) or 1


@bp.get("/admin/protokoll")
@access.roles(*queries.AUDIT_READER_ROLES)
def admin_log():
    form = AuditFilterForm(formdata=request.args)
    filtered = any(request.args.get(name) for name in form.data)
    valid = form.validate() if filtered else True
    # With invalid filters the page shows the errors, not an unfiltered list that looks like a result.
    filters = form.filters() if filtered and valid else queries.AuditFilter()
    overview = queries.admin_overview(current_actor(), filters, _page_number()) if valid else None
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "audit/admin_log.html",
        form=form,
        overview=overview,
        query=query,
        filtered=filtered,
        outcome_texts=queries.OUTCOME_TEXTS,
    )


@bp.get("/konto/protokoll")
@access.signed_in
def my_log():
    lines, listing = queries.events_about(current_actor(), _page_number())
    return render_template("audit/my_log.html", lines=lines, listing=listing)


# A proof streams its checkpoint's range of hashes (about 0.4 s for 100,000 events): limited so that nobody can
# keep the server busy with it; a person checking their entries needs a handful.
PROOF_RATE = "30 per minute"


@bp.get("/konto/protokoll/<int:seq>")
@limiter.limit(PROOF_RATE)
@access.signed_in
def my_event(seq: int):
    evidence = proofs.evidence_for(current_actor(), seq)
    return render_template("audit/my_event.html", evidence=evidence, proofs=proofs)


@bp.get("/konto/protokoll/<int:seq>/nachweis.json")
@limiter.limit(PROOF_RATE)
@access.signed_in
def my_event_proof(seq: int):
    document = proofs.proof_document(proofs.evidence_for(current_actor(), seq))
    response = Response(json.dumps(document, ensure_ascii=False, indent=2) + "\n", mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="nachweis-{seq}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response
