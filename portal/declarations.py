"""What the core and each service declare at start-up: roles, API scopes, settings, production checks.

A service calls these from its `register(app)`; the factory validates the whole set once every service is
registered (`validate(app)`), so a typo in a role name on a route, a scope nobody declared, or a setting
declared twice stops the app at start-up instead of surfacing as a 403 in production.

    from portal.declarations import Role, Scope, Setting, declare_role, declare_scope, declare_setting

    declare_role(app, Role("permit_officer", "department", _l("Sondernutzung: Sachbearbeitung"), "permits"))
    declare_scope(app, Scope("permits", _l("Sondernutzungserlaubnisse"), "permits"))
    declare_setting(app, Setting("PERMITS_LEAD_DAYS", 10, "Lead time in working days", "permits", kind=int))
    declare_production_check(app, "permits", lambda config: [] if config["…"] else ["… is required"])

Roles are stored as plain strings in `user_role` (global roles) and `department_membership` (roles held in
one department); the database no longer lists them (revision 0006), this registry does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

NAME = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,63}$")
ROLES_KEY = "stadtportal_roles"
SCOPES_KEY = "stadtportal_scopes"
SETTINGS_KEY = "stadtportal_settings"
CHECKS_KEY = "stadtportal_production_checks"


class DeclarationError(RuntimeError):
    """A declaration that cannot be right; raised at start-up."""


@dataclass(frozen=True)
class Role:
    name: str
    kind: str  # "global" (held everywhere) or "department" (held in one department)
    label: Any  # lazy text, shown in the staff pages and mails
    service: str = "portal"


@dataclass(frozen=True)
class Scope:
    name: str
    label: Any
    service: str = "portal"


@dataclass(frozen=True)
class Setting:
    """One configuration value read from the environment variable of the same name."""

    name: str
    default: Any
    description: str
    service: str = "portal"
    secret: bool = False
    kind: Callable[[str], Any] = str
    choices: tuple[str, ...] = field(default=())


def _registry(app: Flask, key: str) -> dict[str, Any]:
    return app.extensions.setdefault(key, {})


def declare_role(app: Flask, role: Role) -> None:
    if not NAME.match(role.name):
        raise DeclarationError(f"role name {role.name!r} must be lower_snake_case, 2-32 characters")
    if role.kind not in {"global", "department"}:
        raise DeclarationError(f"role {role.name!r}: kind must be 'global' or 'department', not {role.kind!r}")
    roles = _registry(app, ROLES_KEY)
    existing = roles.get(role.name)
    if existing is not None and (existing.kind, existing.service) != (role.kind, role.service):
        raise DeclarationError(
            f"role {role.name!r} declared by {role.service!r} is already declared by {existing.service!r}"
        )
    roles[role.name] = role


def declare_scope(app: Flask, scope: Scope) -> None:
    if not NAME.match(scope.name):
        raise DeclarationError(f"scope name {scope.name!r} must be lower_snake_case, 2-32 characters")
    scopes = _registry(app, SCOPES_KEY)
    existing = scopes.get(scope.name)
    if existing is not None and existing.service != scope.service:
        raise DeclarationError(f"scope {scope.name!r} is declared by {existing.service!r} and {scope.service!r}")
    scopes[scope.name] = scope


def _convert(setting: Setting, raw: str) -> Any:
    if setting.kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    try:
        value = setting.kind(raw)
    except ValueError:
        raise DeclarationError(f"{setting.name}={raw!r} is not a valid {setting.kind.__name__}") from None
    if setting.choices and value not in setting.choices:
        raise DeclarationError(f"{setting.name} must be one of {', '.join(setting.choices)}, not {raw!r}")
    return value


def declare_setting(app: Flask, setting: Setting) -> None:
    """Declare a setting and put its value into app.config.

    The value is, in this order: what the test config or an earlier config class set, the environment
    variable of the same name, the default.
    """
    if not SETTING_NAME.match(setting.name):
        raise DeclarationError(f"setting name {setting.name!r} must be UPPER_SNAKE_CASE")
    settings = _registry(app, SETTINGS_KEY)
    if setting.name in settings and settings[setting.name].service != setting.service:
        raise DeclarationError(f"setting {setting.name} is declared by two services")
    settings[setting.name] = setting
    if setting.name in app.config:
        return
    raw = os.environ.get(setting.name)
    app.config[setting.name] = setting.default if raw is None else _convert(setting, raw)


def declare_production_check(app: Flask, service: str, check: Callable[[Any], Iterable[str]]) -> None:
    """`check(config)` returns the problems that must stop a production start (empty when all is well)."""
    app.extensions.setdefault(CHECKS_KEY, []).append((service, check))


# --- reading the declarations -----------------------------------------------------------------------------


def roles(app: Flask | None = None) -> dict[str, Role]:
    return dict(_registry(app or current_app, ROLES_KEY))


def role_names(kind: str, app: Flask | None = None) -> list[str]:
    """Declared role names of one kind, in declaration order (the core's first)."""
    return [r.name for r in roles(app).values() if r.kind == kind]


def role_label(name: str) -> Any:
    role = roles().get(name)
    return role.label if role is not None else name


def scopes(app: Flask | None = None) -> dict[str, Scope]:
    return dict(_registry(app or current_app, SCOPES_KEY))


def settings(app: Flask | None = None) -> dict[str, Setting]:
    return dict(_registry(app or current_app, SETTINGS_KEY))


def describe_settings(app: Flask) -> list[tuple[Setting, str]]:
    """Each declared setting with its current value as an operator may see it (secrets masked)."""
    rows = []
    for setting in settings(app).values():
        value = app.config.get(setting.name)
        shown = ("(set)" if value else "(not set)") if setting.secret else repr(value)
        rows.append((setting, shown))
    return rows


# --- the core's own declarations and the start-up validation ----------------------------------------------

CORE_ROLES = (
    Role("clerk", "department", _l("Sachbearbeitung")),
    Role("department_admin", "department", _l("Amtsadministration")),
    Role("data_steward", "department", _l("Datenverantwortung")),
    Role("moderator", "global", _l("Moderation")),
    Role("treasury", "global", _l("Stadtkasse")),
    Role("dpo", "global", _l("Datenschutzbeauftragte Person")),
    Role("platform_admin", "global", _l("Plattform-Administration")),
)
CORE_SCOPES = (
    Scope("audit", _l("Prüfprotokoll lesen")),
    Scope("metrics", _l("Betriebskennzahlen (/metrics)")),
)


def init_app(app: Flask) -> None:
    for role in CORE_ROLES:
        declare_role(app, role)
    for scope in CORE_SCOPES:
        declare_scope(app, scope)
    app.cli.add_command(config_cli)


config_cli = AppGroup("config", help="What the running services declare.")


@config_cli.command("show")
def show() -> None:
    """List the services, their settings (secrets masked), roles and API scopes."""
    app = current_app
    click.echo("services: " + (", ".join(app.extensions.get("stadtportal_services", [])) or "(none)"))
    for setting, shown in describe_settings(app):  # type: ignore[arg-type]
        click.echo(f"setting {setting.name} = {shown}  [{setting.service}] {setting.description}")
    for role in roles().values():
        click.echo(f"role {role.name} ({role.kind})  [{role.service}] {role.label}")
    for scope in scopes().values():
        click.echo(f"scope {scope.name}  [{scope.service}] {scope.label}")


def validate(app: Flask) -> None:
    """Once every service is registered: every route names declared roles and scopes; production checks."""
    declared_roles = roles(app)
    declared_scopes = scopes(app)
    problems = []
    for endpoint, view in app.view_functions.items():
        rule = getattr(view, "access_rule", None)
        if rule is None:
            continue  # the route-access test and the runtime hook refuse these
        unknown = sorted(set(rule.roles) - declared_roles.keys())
        if unknown:
            problems.append(f"route {endpoint} names undeclared roles {', '.join(unknown)}")
        if rule.scope is not None and rule.scope not in declared_scopes:
            problems.append(f"route {endpoint} needs the undeclared scope {rule.scope!r}")
    if problems:
        raise DeclarationError("; ".join(problems))
    if app.config.get("ENV_NAME") == "production":
        failures = [
            f"{service}: {problem}"
            for service, check in app.extensions.get(CHECKS_KEY, [])
            for problem in check(app.config)
        ]
        if failures:
            raise RuntimeError("Production configuration refused: " + "; ".join(failures))
