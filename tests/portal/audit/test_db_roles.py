"""The app runs as a PostgreSQL role that owns nothing: it cannot drop or switch off the audit triggers.

One database for this module, set up as the README says: `flask dbroles setup` as the superuser, the migrations
as the owner (DATABASE_MIGRATE_URL), setup again for the grants, then the portal as the app role.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from portal.extensions import db
from tests.conftest import BACKEND, PG_SERVER_URL
from tests.portal.audit.helpers import record_events

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="database roles are a PostgreSQL matter")


def _url(user: str, database: str) -> str:
    server = sa.make_url(PG_SERVER_URL)
    return server.set(username=user, password=None, database=database).render_as_string(hide_password=False)


def _setup(superuser_url: str, app_url: str, owner: str, app_role: str) -> None:
    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url}, env="test")
    result = app.test_cli_runner().invoke(
        args=["dbroles", "setup", "--owner", owner, "--app", app_role, "--url", superuser_url]
    )
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def roles() -> Iterator[dict[str, str]]:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.schema_migrations import init_migrations

    suffix = uuid.uuid4().hex[:8]
    names = {"database": f"sp_roles_{suffix}", "owner": f"sp_owner_{suffix}", "app": f"sp_app_{suffix}"}
    server = sa.create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{names["database"]}"'))
    superuser_url = re.sub(r"/[^/]*$", f"/{names['database']}", PG_SERVER_URL)
    urls = {
        "app": _url(names["app"], names["database"]),
        "owner": _url(names["owner"], names["database"]),
        "superuser": superuser_url,
    }
    try:
        _setup(superuser_url, urls["app"], names["owner"], names["app"])
        app = create_app({"SQLALCHEMY_DATABASE_URI": urls["app"], "DATABASE_MIGRATE_URL": urls["owner"]}, env="test")
        init_migrations(app)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        _setup(superuser_url, urls["app"], names["owner"], names["app"])  # grants on the tables made since
        yield {**names, **{f"{k}_url": v for k, v in urls.items()}}
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{names["database"]}" WITH (FORCE)'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{names["app"]}"'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{names["owner"]}"'))
        server.dispose()


@pytest.fixture
def app_config(roles, tmp_path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": roles["app_url"],
        "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-key.pem"),
        "SERVER_NAME": None,
    }


def test_the_migrations_ran_as_the_owner_and_the_app_role_owns_nothing(app, roles):
    owners = db.session.scalars(sa.text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")).all()
    owned = db.session.scalar(
        sa.text(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
    )
    assert db.session.scalar(sa.text("SELECT current_user")) == roles["app"]
    assert owners == [roles["owner"]]
    assert owned == 0


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("DROP TRIGGER audit_checkpoint_no_update_delete ON audit_checkpoint", "must be owner"),
        ("DROP TRIGGER audit_event_no_update_delete ON audit_event", "must be owner"),
        ("ALTER TABLE audit_event DISABLE TRIGGER ALL", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("DELETE FROM audit_checkpoint", "permission denied"),
        ("UPDATE audit_event SET outcome = 'failure'", "permission denied"),
        ("TRUNCATE audit_checkpoint", "permission denied"),
        ("TRUNCATE audit_event CASCADE", "permission denied"),
        ("UPDATE alembic_version SET version_num = '0001'", "permission denied"),
        ("CREATE TABLE sneaky (id int)", "permission denied"),
    ],
    ids=lambda v: v if len(v) < 25 else v[:25],
)
def test_the_app_role_cannot_remove_or_bypass_the_audit_protection(app, statement, refusal):
    with pytest.raises(sa.exc.DBAPIError, match=refusal):
        db.session.execute(sa.text(statement))
    db.session.rollback()


def test_the_portal_works_as_the_app_role(app, client, runner):
    before = db.session.scalar(sa.text("SELECT count(*) FROM audit_event"))
    db.session.rollback()
    record_events(3)

    checkpoint = runner.invoke(args=["audit", "checkpoint"])
    assert checkpoint.exit_code == 0, checkpoint.output
    verified = runner.invoke(args=["audit", "verify", "--quiet"])
    assert verified.exit_code == 0, verified.output
    assert f"{before + 4} events checked" in verified.stdout
    assert client.get("/").status_code == 200


def test_setup_prints_the_sql_for_psql(runner):
    result = runner.invoke(
        args=["dbroles", "setup", "--print", "--url", "postgresql+psycopg://postgres@db.example/stadtportal"]
    )

    assert result.exit_code == 0, result.output
    assert 'ALTER DATABASE "stadtportal" OWNER TO "stadtportal_owner";' in result.stdout
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "stadtportal_app";' in result.stdout
    assert "REVOKE UPDATE, DELETE, TRUNCATE" in result.stdout
