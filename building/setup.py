"""Setting up the portal's own data-access client (see building.services): a token without a person, bound to the
consuming department of one approved agreement and to that agreement only."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from dataaccess.errors import DataAccessError
from dataaccess.models import AccessClient
from dataaccess.services.agreement_versions import resolve
from dataaccess.services.clients import bind_client
from portal.accounts.tokens import MAX_DAYS, create_token
from portal.actors import Actor


def connect_portal_client(actor: Actor, agreement_reference: str) -> AccessClient:
    """A new client token for the portal, bound to the agreement's consumer and to the agreement (the system or a
    platform admin; both calls check and audit). A token lives at most MAX_DAYS: run this again before then."""
    agreement = resolve(agreement_reference)
    if agreement is None:
        raise DataAccessError("agreement", _("Diese Datenzugriffsvereinbarung gibt es nicht."), "no_agreement")
    token, _raw = create_token(
        actor, current_app.config["BUILDING_CLIENT_NAME"], ["dataaccess"], expires_in_days=MAX_DAYS
    )  # the raw value is never used: the portal acts as this client in-process
    return bind_client(actor, token.id, agreement.consumer_department_id, agreement.reference)
