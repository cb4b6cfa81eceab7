"""Machine clients: a department's specialist system reads with an API token bound to that department.

    token, raw = portal.accounts.tokens.create_token(SYSTEM, "Bauamt-Fachverfahren", ["dataaccess"])
    bind_client(SYSTEM, token.id, bauamt.id, agreement_reference="DZV-2026-000001")   # the last is optional

The access function admits a client only for agreements whose consumer is the bound department (and, when
bound to one agreement, only that one); a token without a binding reads nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden

import dataaccess.actions  # noqa: F401  (declares the audit actions)
from dataaccess.errors import DataAccessError
from dataaccess.models import AccessClient
from dataaccess.services.common import SCOPE, is_person
from portal.accounts.models import ApiToken
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import Department
from portal.extensions import db
from portal.references import parse_reference
from portal.transaction import transaction


def may_bind(actor: Actor, department_id: int) -> bool:
    """The system (the `flask` command line), a platform admin, or an admin of the department."""
    if actor.kind == "system":
        return True
    return is_person(actor) and (actor.has_role("platform_admin") or actor.has_role("department_admin", department_id))


def bind_client(
    actor: Actor, token_id: int, department_id: int, agreement_reference: str | None = None
) -> AccessClient:
    """Bind an API token carrying the scope `dataaccess` to the department it reads for; replaces a binding."""
    if not may_bind(actor, department_id):
        raise Forbidden()
    token = db.session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None or SCOPE not in token.scope_set:
        raise DataAccessError("token", _("Der Zugang braucht den Bereich „dataaccess“."), "bad_token")
    department = db.session.get(Department, department_id)
    if department is None:
        raise DataAccessError("department_id", _("Dieses Amt gibt es nicht."), "unknown_department")
    reference = None
    if agreement_reference:
        if parse_reference(agreement_reference) is None:
            raise DataAccessError("agreement", _("Geben Sie ein Zeichen wie DZV-2026-000001 an."), "bad_reference")
        reference = agreement_reference.strip().upper()
    with transaction():
        client = db.session.scalar(sa.select(AccessClient).where(AccessClient.token_id == token.id))
        if client is None:
            client = AccessClient(token_id=token.id, department_id=department.id)
            db.session.add(client)
        client.department_id = department.id
        client.agreement_reference = reference
        client.created_by_id = actor.user.id if actor.user is not None else None
        audit.record(
            "dataaccess.client_bound",
            actor,
            target=client,
            client_id=token.id,
            department_id=department.id,
            agreement=reference,
        )
    return client


def binding_of(token_id: int) -> AccessClient | None:
    return db.session.scalar(sa.select(AccessClient).where(AccessClient.token_id == token_id))
