"""Extensions created once at import time and bound to the app in the factory."""

from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
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


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Migrations name plain SQLAlchemy types, so they never import application code."""
    from portal.models_base import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


migrate = Migrate(render_as_batch=True, compare_type=True, render_item=_render_item)
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


class _ObservedLimiter(Limiter):
    """Flask-Limiter falls back to each worker's memory when the shared store (Redis) fails, and back once it
    answers again; it only logs that. Operators must also see it in the metrics, since limits counted per worker
    are that many times looser. Flask-Limiter (pinned) keeps the state in `_storage_dead`; observing its setter
    catches every switch in both directions."""

    @property  # type: ignore[override]
    def _storage_dead(self) -> bool:
        return bool(self.__dict__.get("_observed_storage_dead", False))

    @_storage_dead.setter
    def _storage_dead(self, dead: bool) -> None:
        was = self.__dict__.get("_observed_storage_dead", False)
        self.__dict__["_observed_storage_dead"] = dead
        if dead != was:
            from portal.metrics import ratelimit_store_changed

            ratelimit_store_changed(dead)


limiter = _ObservedLimiter(key_func=get_remote_address, default_limits=[])

if TYPE_CHECKING:
    # mypy cannot see through Flask-SQLAlchemy's dynamic db.Model; give it a declarative base to check against.
    class Model(DeclarativeBase):
        pass

else:
    Model = db.Model
