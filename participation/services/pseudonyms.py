"""Pseudonyms: the name a participant appears under, chosen once at their first contribution.

Unique regardless of case and spacing ("Anna Lena" and "anna  lena" are one name): the database's UNIQUE on
`name_key` settles two people choosing the same name at the same moment. A name must not look like an e-mail
address or pass for the city's staff.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Forbidden

import participation.actions  # noqa: F401  (declares the audit actions)
from participation.errors import ParticipationError
from participation.models import Pseudonym
from participation.text import plain_text
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.transaction import transaction

T = TypeVar("T")

NAME_MIN = 3
NAME_MAX = 40
_ALLOWED = re.compile(r"[\w .'-]+")
# Names that would pass for the city or its moderation, or for the detached "former participant".
RESERVED = frozenset(
    {
        "admin",
        "administrator",
        "moderation",
        "moderator",
        "moderatorin",
        "stadt",
        "stadtverwaltung",
        "verwaltung",
        "rathaus",
        "gast",
        "ehemalige teilnehmende",
        "stadtportal",
    }
)


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def check_name(value: object, field: str = "pseudonym") -> str:
    """The name as it will be shown, or ParticipationError saying what is wrong with it."""
    name = plain_text(value, field, NAME_MAX, multiline=False)
    if len(name) < NAME_MIN:
        raise ParticipationError(field, _l("Mindestens %(n)s Zeichen.", n=NAME_MIN), "too_short")
    if "@" in name or not _ALLOWED.fullmatch(name) or not any(ch.isalpha() for ch in name):
        raise ParticipationError(
            field,
            _l("Nur Buchstaben, Ziffern, Leerzeichen, Punkt, Apostroph und Bindestrich; keine E-Mail-Adresse."),
            "bad_name",
        )
    if name_key(name) in RESERVED:
        raise ParticipationError(field, _l("Diesen Namen können Sie nicht wählen."), "reserved_name")
    return name


def get_pseudonym(user_id: int) -> Pseudonym | None:
    return db.session.scalar(sa.select(Pseudonym).where(Pseudonym.user_id == user_id))


def add_in_transaction(actor: Actor, name: str, field: str = "pseudonym") -> Pseudonym:
    """Write the actor's pseudonym inside the caller's transaction (their first contribution's).

    Raises ParticipationError name_taken (409) when someone has the name already; a concurrent choice of the
    same name surfaces as IntegrityError at the flush, which `choose` and the contribution services translate.
    """
    assert actor.user is not None
    taken = db.session.scalar(sa.select(Pseudonym.id).where(Pseudonym.name_key == name_key(name)))
    if taken is not None:
        raise ParticipationError(field, _l("Diesen Namen hat schon jemand gewählt."), "name_taken", 409)
    pseudonym = Pseudonym(user_id=actor.user.id, name=name, name_key=name_key(name))
    db.session.add(pseudonym)
    db.session.flush()
    audit.record("participation.pseudonym_chosen", actor, target=pseudonym, subject_user_id=actor.user.id, name=name)
    return pseudonym


def choose(actor: Actor, name: str) -> Pseudonym:
    """Choose the name the actor takes part under. Once chosen it stays (name_exists, 409)."""
    if actor.user is None:
        raise Forbidden()
    name = check_name(name)
    if get_pseudonym(actor.user.id) is not None:
        raise ParticipationError("pseudonym", _l("Sie haben Ihren Namen schon gewählt."), "pseudonym_exists", 409)
    try:
        with transaction():
            return add_in_transaction(actor, name)
    except IntegrityError:
        # A double click: the first request chose this very name for this account; that is no error.
        mine = get_pseudonym(actor.user.id)
        if mine is not None and mine.name_key == name_key(name):
            return mine
        raise name_race_error() from None


def name_race_error() -> ParticipationError:
    """What a lost race on the name's (or the account's) unique key means to the person."""
    return ParticipationError("pseudonym", _l("Diesen Namen hat schon jemand gewählt."), "name_taken", 409)


def run_with_pseudonym(actor: Actor, name: str | None, work: Callable[[], T]) -> T:
    """Run a contribution's `work` (its whole transaction, which calls `ensure`), translating a lost race on
    the pseudonym: another request of the same person chose their name meanwhile (run again, now with it), or
    someone else took the name (name_taken)."""
    assert actor.user is not None
    try:
        return work()
    except IntegrityError:
        if get_pseudonym(actor.user.id) is not None:
            return work()
        if name:
            raise name_race_error() from None
        raise


def ensure(actor: Actor, name: str | None, field: str = "pseudonym") -> Pseudonym:
    """Inside a contribution's transaction: the actor's pseudonym, choosing `name` if they have none yet."""
    assert actor.user is not None
    existing = get_pseudonym(actor.user.id)
    if existing is not None:
        return existing
    if not name:
        raise ParticipationError(
            field, _l("Wählen Sie einen Namen, unter dem Ihr Beitrag erscheint."), "pseudonym_required"
        )
    return add_in_transaction(actor, check_name(name, field), field)
