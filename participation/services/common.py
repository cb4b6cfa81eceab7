"""Small helpers the participation use cases share: cursors, pages, loading with permission, names shown."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.exceptions import Forbidden, NotFound

from participation import cache_token, rules
from participation.errors import ActionRefused, ParticipationError
from participation.models import Consultation, ConsultationState, Pseudonym
from portal.actors import Actor
from portal.extensions import db

T = TypeVar("T")

PAGE_MAX = 100


@dataclass
class Page(Generic[T]):
    """One page of a list walked by cursor: pass `next_cursor` back for the next page (None: the last page)."""

    items: list[T] = field(default_factory=list)
    next_cursor: str | None = None


def encode_cursor(*values: Any) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _of_type(value: Any, kind: type) -> bool:
    if isinstance(value, bool) or not isinstance(value, kind):
        return False
    # A number no id or counter can reach would only fail in the database (SQLite: OverflowError, a 500).
    return not isinstance(value, int) or abs(value) < 2**63


def decode_cursor(cursor: str | None, *types: type) -> tuple[Any, ...] | None:
    """The values a cursor carries, checked against `types`; ParticipationError (400) for a bad one."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):  # RecursionError: JSON nested too deep
        values = None
    if (
        not isinstance(values, list)
        or len(values) != len(types)
        or not all(_of_type(v, t) for v, t in zip(values, types, strict=True))
    ):
        raise ParticipationError("cursor", _l("Diese Seite gibt es nicht."), "bad_cursor", 400)
    return tuple(values)


def page_size(limit: Any, default: int = 20) -> int:
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        return min(limit, PAGE_MAX)
    return default


def load_consultation(consultation_id: int, *, for_update: bool = False) -> Consultation:
    """The consultation (404 if there is none); `for_update` locks its row until the transaction ends.

    Every writing use case locks the consultation first, then the rows below it (a parent comment, a
    proposal), and writes its audit event last: one order for all, so two transactions never wait on each
    other in a circle (PostgreSQL). It also makes the rules' answer hold until the change commits.
    """
    consultation = db.session.get(
        Consultation, consultation_id, with_for_update=for_update or None, populate_existing=for_update
    )
    if consultation is None:
        raise NotFound()
    return consultation


def visible_consultation(actor: Actor, consultation_id: int) -> Consultation:
    """The consultation if the actor may see it: drafts only for their managers (others: 404)."""
    consultation = load_consultation(consultation_id)
    if consultation.state == ConsultationState.DRAFT and not rules.is_manager(actor, consultation.department_id):
        raise NotFound()
    return consultation


def managed_consultation(actor: Actor, consultation_id: int) -> Consultation:
    """Inside a manager's transaction: the consultation, locked; Forbidden unless the actor manages it."""
    consultation = load_consultation(consultation_id, for_update=True)
    if not rules.is_manager(actor, consultation.department_id):
        raise Forbidden()
    return consultation


def check_changeable(consultation: Consultation) -> None:
    if consultation.state not in (ConsultationState.DRAFT, ConsultationState.PUBLISHED):
        raise ParticipationError(
            "state", _l("Ein abgeschlossenes Verfahren kann nicht mehr geändert werden."), "not_changeable", 409
        )


def check_allowed(actor: Actor, consultation: Consultation, action: str, field: str = "action") -> None:
    refused = rules.refusal(actor, consultation, action)
    if refused is not None:
        raise ActionRefused.of(refused, field)


def bump(row: Any, column: str, delta: int) -> int:
    """Add `delta` to a counter column of `row` in the database (`SET n = n + delta`, never read-then-write)
    and return the new value; the instance is kept in step."""
    model = type(row)
    attribute = getattr(model, column)
    statement = sa.update(model).where(model.id == row.id).values({column: attribute + delta}).returning(attribute)
    options = {"synchronize_session": False, **cache_token.statement_options(db.session, row)}
    value = int(db.session.execute(statement, execution_options=options).scalar_one())
    set_committed_value(row, column, value)
    return value


def pseudonym_names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """Pseudonyms of the given accounts, in one query."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Pseudonym.user_id, Pseudonym.name).where(Pseudonym.user_id.in_(ids)))
    return {row.user_id: row.name for row in rows}


def shown_name(author_id: int | None, names: dict[int, str], guest_name: str | None = None) -> str:
    """The name a contribution appears under: the pseudonym, a guest's name marked as such, or the detached
    "ehemalige Teilnehmende" (never an account's name or address)."""
    if author_id is not None and author_id in names:
        return names[author_id]
    if guest_name:
        return _("%(name)s (Gast)", name=guest_name)
    return _("Ehemalige Teilnehmende")
