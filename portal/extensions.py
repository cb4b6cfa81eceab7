"""Extensions created once at import time and bound to the app in the factory."""

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


class _Limiter(Limiter):
    """Flask-Limiter, telling `fallback_hooks` each time limits move to memory because its shared store failed
    (True), and back once the store answers again (False).

    Flask-Limiter marks that moment only by setting `_storage_dead` (and a log line whose wording may change), so
    the flag is watched here: operators need to count outages (portal.metrics), not grep for them.
    """

    fallback_hooks: list[Callable[[bool], None]] = []

    def init_app(self, app: Flask) -> None:
        # Flask-Limiter keeps the first app's RATELIMIT_KEY_PREFIX for every later app in the process (it only
        # fills the prefix when empty); each app counts under its own.
        self._key_prefix = ""
        super().init_app(app)

    @property  # type: ignore[override]
    def _storage_dead(self) -> bool:
        return bool(self.__dict__.get("_storage_dead_flag", False))

    @_storage_dead.setter
    def _storage_dead(self, dead: bool) -> None:
        was_dead = self._storage_dead
        self.__dict__["_storage_dead_flag"] = dead
        if dead == was_dead:
            return
        if dead:
            logging.getLogger("portal.rate_limits").warning(
                "rate limits: shared store unreachable, counting in this worker's memory until it answers"
            )
        else:
            logging.getLogger("portal.rate_limits").info("rate limits: shared store answers again")
        for hook in self.fallback_hooks:
            hook(dead)


limiter = _Limiter(key_func=get_remote_address, default_limits=[])

if TYPE_CHECKING:
    # mypy cannot see through Flask-SQLAlchemy's dynamic db.Model; give it a declarative base to check against.
    class Model(DeclarativeBase):
        pass

else:
    Model = db.Model
