"""Two PostgreSQL roles: the owner runs the migrations, the app owns nothing and has only the DML it needs.

A role that owns a table can drop or disable its triggers; the append-only audit tables would then be
append-only only by convention. So the web and worker processes connect as the app role (DATABASE_URL) and
`flask db upgrade` as the owner (DATABASE_MIGRATE_URL). The app role may read and write the tables, but never
update, delete or truncate audit_event and audit_checkpoint, never write alembic_version, and never alter a
table or a trigger. (Even a superuser's rewrite is caught by the witness: portal.audit.witness.)

`flask dbroles setup` prints or runs the SQL; it is idempotent: run it before the first `flask db upgrade` (roles,
ownership, default privileges) and again after each upgrade (grants on the tables that exist by then).
"""

from __future__ import annotations

import re

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
APPEND_ONLY_TABLES = ("audit_event", "audit_checkpoint")

dbroles_cli = AppGroup(
    "dbroles", help="PostgreSQL roles: a schema owner for migrations, an app role that owns nothing."
)


def _ident(name: str) -> str:
    if not ROLE_NAME.match(name):
        raise click.BadParameter(f"{name!r} is not a plain role or database name (a-z, 0-9, _)")
    return f'"{name}"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ensure_role(name: str, password: str | None) -> list[str]:
    role = _ident(name)
    with_password = f" PASSWORD {_literal(password)}" if password else ""
    return [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(name)}) "
        f"THEN CREATE ROLE {role}; END IF; END $$",
        f"ALTER ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS{with_password}",
    ]


def setup_sql(
    database: str, owner: str, app: str, owner_password: str | None = None, app_password: str | None = None
) -> list[str]:
    """The statements, in order, for a superuser to run in `database`."""
    db, own, use = _ident(database), _ident(owner), _ident(app)
    if owner == app:
        raise click.BadParameter("the owner and the app role must differ")
    # Objects a previous setup (or migrations run as another role) left with another owner move to the owner.
    # Sequences that belong to a table's column move with their table.
    # Every name in this SQL passed ROLE_NAME (or is a constant); values are quoted by _literal.
    hand_over = f"""DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
             AND pg_get_userbyid(c.relowner) <> {_literal(owner)}
             AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid
                                                  AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I',
                   CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                  ELSE 'TABLE' END, r.name, {_literal(owner)});
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> {_literal(owner)}
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.name, {_literal(owner)});
  END LOOP;
END $$"""  # noqa: S608
    append_only = f"""DO $$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY[{", ".join(_literal(t) for t in APPEND_ONLY_TABLES)}] LOOP
    IF to_regclass('public.' || t) IS NOT NULL THEN
      EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON public.%I FROM %I', t, {_literal(app)});
    END IF;
  END LOOP;
  IF to_regclass('public.alembic_version') IS NOT NULL THEN
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON public.alembic_version FROM %I', {_literal(app)});
  END IF;
END $$"""
    return [
        *_ensure_role(owner, owner_password),
        *_ensure_role(app, app_password),
        f"ALTER DATABASE {db} OWNER TO {own}",
        f"REVOKE ALL ON DATABASE {db} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {db} TO {use}",
        f"ALTER SCHEMA public OWNER TO {own}",
        "REVOKE ALL ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {use}",
        hand_over,
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {own} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {use}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {own} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {use}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {use}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {use}",
        append_only,
    ]


@dbroles_cli.command("setup")
@click.option("--owner", default="stadtportal_owner", show_default=True, help="Owns the schema; runs migrations.")
@click.option("--app", "app_role", default="stadtportal_app", show_default=True, help="The web and worker role.")
@click.option("--owner-password", envvar="STADTPORTAL_OWNER_DB_PASSWORD", help="Set the owner's password.")
@click.option("--app-password", envvar="STADTPORTAL_APP_DB_PASSWORD", help="Set the app role's password.")
@click.option(
    "--url",
    help="A superuser's URL to run the SQL with (default: DATABASE_MIGRATE_URL, then DATABASE_URL).",
)
@click.option("--print", "print_only", is_flag=True, help="Print the SQL (for psql) instead of running it.")
def setup_command(
    owner: str, app_role: str, owner_password: str | None, app_password: str | None, url: str | None, print_only: bool
) -> None:
    """Create or update the two roles and their rights in this database (idempotent: also after each upgrade)."""
    target = sa.make_url(
        url or current_app.config.get("DATABASE_MIGRATE_URL") or current_app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if not target.drivername.startswith("postgresql") or not target.database:
        raise click.ClickException("dbroles needs a PostgreSQL URL naming the database")
    statements = setup_sql(target.database, owner, app_role, owner_password, app_password)
    if print_only:
        click.echo(";\n".join(statements) + ";")
        return
    engine = sa.create_engine(target)
    try:
        with engine.begin() as connection:
            cursor = connection.connection.cursor()
            for statement in statements:
                cursor.execute(statement)  # no parameters: psycopg leaves format()'s %s and %I alone
    except sa.exc.DBAPIError as exc:
        raise click.ClickException(f"could not set up the roles: {exc.orig}") from None
    finally:
        engine.dispose()
    click.echo(
        f"Roles ready in {target.database}: {owner} owns the schema (DATABASE_MIGRATE_URL), "
        f"{app_role} has DML only (DATABASE_URL)."
    )


def init_app(app: Flask) -> None:
    app.cli.add_command(dbroles_cli)
