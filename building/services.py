"""The citizen's building applications, read from the building authority under an agreement.

Who reads: when a citizen asks for their own records, no official of another department is involved, and the
building authority's data must still leave it only under an approved agreement and be logged where the citizen
sees it. So the portal reads as what it is, a machine client of the department that runs it (the Hauptamt):

- an API token without a person (`BUILDING_CLIENT_NAME`, scope `dataaccess`), bound with
  dataaccess.services.clients.bind_client to the Hauptamt and to exactly one agreement;
- that agreement (dataset `bauordnung.baugenehmigungen`, owner Bauordnung, consumer Hauptamt) allows one purpose,
  `AUSK-BETR` "Auskunft an Betroffene" (Art. 15 DSGVO), and the fields a status page needs; it goes through the
  usual four-eyes approval of the owning department's data steward and the dpo, and revoking it, or the token,
  stops the page;
- every read goes through dataaccess.services.access.read, which checks the agreement, the purpose, the fields
  and the rate limit, and writes the access-log row the citizen sees in "Mein Konto → Datenzugriffe";
- the subject is always the signed-in person (`actor.user`), never taken from input, and the case reference
  names the self-service ("Selbstauskunft …"), so the log says who asked and why.

The client's token is never sent anywhere: the portal acts as it in-process. Without a configured client or
agreement the page says the service is not available yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden

from dataaccess.errors import AccessRefused
from dataaccess.models import AccessClient
from dataaccess.services import access
from dataaccess.services.agreement_versions import resolve
from portal.accounts.models import ApiToken
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import utcnow

FIELDS = ("aktenzeichen", "vorhaben", "grundstueck", "status", "erteilt_am")
CASE_REFERENCE = "Selbstauskunft im Bürgerportal"


@dataclass
class Outcome:
    """What the page shows: the records, or why there are none."""

    available: bool
    applications: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    log_id: int | None = None


def portal_client() -> tuple[Actor, str] | None:
    """The portal's own data-access client and the agreement it is bound to, or None where none is set up."""
    name = current_app.config["BUILDING_CLIENT_NAME"]
    row = db.session.execute(
        sa.select(ApiToken, AccessClient.agreement_reference)
        .join(AccessClient, AccessClient.token_id == ApiToken.id)
        .where(
            ApiToken.name == name,
            ApiToken.user_id.is_(None),
            ApiToken.revoked_at.is_(None),
            sa.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > utcnow()),
            AccessClient.agreement_reference.is_not(None),
        )
        .order_by(ApiToken.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    token, agreement = row
    return Actor.for_token(token), agreement


def my_applications(actor: Actor) -> Outcome:
    """The signed-in person's building applications, read (and logged) under the portal's agreement."""
    if actor.user is None or actor.token is not None:
        raise Forbidden()
    client = portal_client()
    if client is None:
        return Outcome(False, message=_("Die Auskunft über Bauanträge ist noch nicht eingerichtet."))
    reader, agreement = client
    # Ask for the fields the page can show that the agreement grants (the others would refuse the whole read).
    version = resolve(agreement)
    granted = set(version.fields) if version is not None else set(FIELDS)
    fields = [name for name in FIELDS if name in granted] or list(FIELDS)
    try:
        result = access.read(
            reader,
            agreement,
            current_app.config["BUILDING_PURPOSE"],
            CASE_REFERENCE,
            actor.user.id,
            fields,
        )
    except AccessRefused as refused:
        current_app.logger.warning(
            "building: access refused (%s)", refused.code, extra={"code": refused.code, "agreement": agreement}
        )
        return Outcome(False, message=_("Die Auskunft ist zurzeit nicht möglich. Bitte versuchen Sie es später."))
    applications = sorted(result.records, key=lambda r: str(r.get("aktenzeichen") or ""), reverse=True)
    for record in applications:
        record["erteilt_am"] = _day(record.get("erteilt_am"))
    return Outcome(True, applications, log_id=result.log_id)


def _day(value: Any) -> str:
    try:
        return date.fromisoformat(str(value)).strftime("%d.%m.%Y") if value else ""
    except ValueError:
        return str(value)


def advice_service_id() -> int | None:
    """The catalogue id of the building authority's advisory appointment, where it is bookable."""
    from appointments.services import catalogue

    return catalogue.bookable_service_named(current_app.config["BUILDING_ADVICE_SERVICE"])
