"""The fuzz stage: a world with the demo data on its own database, people of every role, tokens of every scope.

Each fuzz module gets its own world (module scope): fuzzing changes data, and one world per module keeps the
API fuzzer's cancellations from taking away what the form fuzzer needs. The database is a copy of the
worker's migrated SQLite file, or a fresh PostgreSQL database built by the migrations.

Bounded for CI by the Hypothesis profile "fuzz" (examples per route, deadline); FUZZ_EXAMPLES raises it for a
longer run by hand.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from tests.conftest import BACKEND, PG_SERVER_URL, _migrate

settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "12")),
    deadline=None,  # a request's time varies with the machine; the stage is bounded by the example count
    derandomize=True,  # the same inputs in every run, so a finding reproduces and the xfail list stays exact
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
FUZZ = settings.get_profile("fuzz")

DEMO_DOMAIN = "demo.stadtportal.example"


@dataclass
class World:
    app: object
    url: str
    tokens: dict[str, str] = field(default_factory=dict)  # scope -> raw bearer token


def _fresh_database(template: str, tmp: Path) -> Iterator[str]:
    if BACKEND == "sqlite":
        path = tmp / "fuzz.sqlite"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    name = f"sp_fuzz_{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = re.sub(r"/[^/]*$", f"/{name}", PG_SERVER_URL)
    try:
        _migrate(url)
        yield url
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="module")
def fuzz_world(database_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from portal import create_app
    from portal.accounts.tokens import create_token
    from portal.actors import SYSTEM
    from portal.extensions import db

    tmp = tmp_path_factory.mktemp("fuzz")
    for url in _fresh_database(database_template, tmp):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "AUDIT_SIGNING_KEY_FILE": str(tmp / "audit-key.pem"),
                "FILE_STORAGE_PATH": str(tmp / "files"),
                "SERVER_NAME": None,
                # Rate limits and sign-in lockouts would answer 429 or "locked" after a few examples and keep the
                # fuzzer from the code behind them.
                "RATELIMIT_ENABLED": False,
                "LOGIN_LOCK_AFTER": 1_000_000,
                "LOGIN_IP_LOCK_AFTER": 1_000_000,
            },
            env="test",
        )
        world = World(app=app, url=url)
        with app.app_context():
            result = app.test_cli_runner().invoke(args=["demo", "load"])
            assert result.exit_code == 0, result.output
            admin = _user(f"admin@{DEMO_DOMAIN}")
            from portal import declarations

            for scope in sorted(declarations.scopes()):
                # A person's token where the scope acts for someone (participation), a machine client's otherwise.
                owner = admin if scope == "participation" else None
                _, world.tokens[scope] = create_token(SYSTEM, f"Fuzz {scope}", [scope], user=owner, expires_in_days=1)
            db.session.remove()
        # No app context is held while fuzzing: each request gets its own, and its database session ends with it,
        # so a request that failed in the database leaves nothing behind for the next (as in production).
        yield world
        with app.app_context():
            db.engine.dispose()


def _user(email: str):
    from portal.accounts.models import User
    from portal.extensions import db

    user = db.session.scalar(sa.select(User).where(User.email == email))
    assert user is not None, email
    return user


def sign_in(client, email: str) -> None:
    """A signed-in session for the demo account (staff with their second factor), without the login form."""
    from portal.accounts.models import UserSession
    from portal.extensions import db

    raw = secrets.token_urlsafe(32)
    with client.application.app_context():
        user = _user(email)
        token_hash = hashlib.sha256(raw.encode()).hexdigest()
        db.session.add(UserSession(token_hash=token_hash, user_id=user.id, method="password+totp"))
        db.session.commit()
        db.session.remove()
    with client.session_transaction() as session:
        session["_user_id"] = raw
        session["_fresh"] = True


def sign_in_with_password(client, email: str) -> None:
    """Half a sign-in through the form: the password given, the second factor still asked for."""
    from portal.demo_data import DEMO_PASSWORD
    from tests.builders import csrf_from

    token = csrf_from(client.get("/anmelden").get_data(as_text=True))
    response = client.post("/anmelden", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/anmelden/zwei-faktor"), email
