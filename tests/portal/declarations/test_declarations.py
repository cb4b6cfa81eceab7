"""Services declare roles, scopes, settings, production checks and the services they need; start-up checks them."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.accounts.models import User
from portal.accounts.tokens import TokenError, create_token
from portal.actors import SYSTEM, Actor
from portal.admin.services import AdminError
from portal.admin.services.staff import grant_role
from portal.declarations import DeclarationError
from portal.extensions import db
from tests.builders import make_department, make_user
from tests.portal.declarations import needs_sample

SAMPLE = "tests.portal.declarations.sample_service"
NEEDS = "tests.portal.declarations.needs_sample"
UNDECLARED = "tests.portal.declarations.undeclared_role"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SERVICES": ["appointments", SAMPLE]}


def _start(app_config: dict, services: list[str], env: str = "test", **extra):
    return create_app({**app_config, "SERVICES": services, **extra}, env=env)


def test_a_service_role_can_be_granted_and_opens_its_routes(app, client, auth):
    department = make_department()
    admin = make_user("admin@example.org", roles=("platform_admin",), totp=True)
    officer = make_user("officer@example.org", totp=True)
    outsider = make_user("clerk@example.org", department=department, department_role="clerk", totp=True)
    grant_role(Actor.for_user(admin), officer.email, "sample_officer", department.id)
    assert officer.has_role("sample_officer", department.id)
    assert not officer.has_role("sample_officer", department.id + 1)

    auth.login(officer.email)
    auth.totp(officer)
    assert client.get("/_sample/desk").get_data(as_text=True) == "desk"
    auth.logout()
    auth.login(outsider.email)
    auth.totp(outsider)
    assert client.get("/_sample/desk").status_code == 403


def test_a_role_nobody_declared_cannot_be_granted(app):
    department = make_department()
    admin = make_user("admin@example.org", roles=("platform_admin",), totp=True)
    make_user("officer@example.org")
    with pytest.raises(AdminError):
        grant_role(Actor.for_user(admin), "officer@example.org", "permit_officer", department.id)


def test_the_staff_page_offers_service_roles_with_their_label(app, client, auth):
    department = make_department()
    make_user("amtsadmin@example.org", department=department, department_role="department_admin", totp=True)
    auth.login("amtsadmin@example.org")
    auth.totp(db.session.scalar(sa.select(User).where(User.email == "amtsadmin@example.org")))
    page = client.get(f"/admin/aemter/{department.id}/personal").get_data(as_text=True)
    assert 'value="sample_officer"' in page
    assert "Sample officer" in page


def test_a_token_for_a_declared_service_scope_works_and_an_unknown_scope_is_refused(app, client):
    _token, raw = create_token(SYSTEM, "Fachverfahren", ["sample"])
    assert client.get("/_sample/api", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    with pytest.raises(TokenError) as refused:
        create_token(SYSTEM, "Fachverfahren", ["payments"])
    assert "sample" in str(refused.value.message)


def test_a_route_naming_an_undeclared_role_stops_the_start(app_config):
    with pytest.raises(DeclarationError, match="permit_oficer"):
        _start(app_config, [UNDECLARED])


def test_settings_come_from_the_environment_with_declared_types(app_config, monkeypatch):
    monkeypatch.setenv("SAMPLE_LEAD_DAYS", "14")
    app = _start(app_config, [SAMPLE])
    assert app.config["SAMPLE_LEAD_DAYS"] == 14
    assert app.config["SAMPLE_PROVIDER"] == "sandbox"
    # An explicit test configuration wins over the environment.
    assert _start(app_config, [SAMPLE], SAMPLE_LEAD_DAYS=3).config["SAMPLE_LEAD_DAYS"] == 3


@pytest.mark.parametrize(("name", "value"), [("SAMPLE_LEAD_DAYS", "zehn"), ("SAMPLE_PROVIDER", "paypal")])
def test_a_malformed_setting_stops_the_start_naming_it(app_config, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(DeclarationError, match=name):
        _start(app_config, [SAMPLE])


def _production(app_config: dict, **extra):
    return _start(
        app_config,
        [SAMPLE],
        env="production",
        SECRET_KEY=secrets.token_urlsafe(32),
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://root@127.0.0.1:5432/test",
        **extra,
    )


def test_production_refuses_a_service_whose_check_fails(app_config):
    with pytest.raises(RuntimeError) as refused:
        _production(app_config)
    assert "SAMPLE_PROVIDER must not be the sandbox" in str(refused.value)
    assert "SAMPLE_WEBHOOK_SECRET is required" in str(refused.value)
    app = _production(app_config, SAMPLE_PROVIDER="live", SAMPLE_WEBHOOK_SECRET="whsec_x")
    assert SAMPLE in app.extensions["stadtportal_services"]


def test_config_show_masks_secrets(app_config):
    app = _start(app_config, [SAMPLE], SAMPLE_WEBHOOK_SECRET="whsec_geheim")
    output = app.test_cli_runner().invoke(args=["config", "show"]).output
    assert "SAMPLE_LEAD_DAYS = 10" in output
    assert "SAMPLE_WEBHOOK_SECRET = (set)" in output
    assert "whsec_geheim" not in output
    assert "role sample_officer (department)" in output


def test_a_service_needing_one_that_is_switched_off_stops_the_start_with_a_clear_message(app_config):
    with pytest.raises(RuntimeError) as refused:
        _start(app_config, [NEEDS])
    assert f"The service {NEEDS!r} needs the service {SAMPLE!r}, which is switched off" in str(refused.value)


def test_a_service_is_registered_after_the_services_it_needs(app_config):
    needs_sample.REGISTERED.clear()
    app = _start(app_config, [NEEDS, SAMPLE])
    assert app.extensions["stadtportal_services"] == [SAMPLE, NEEDS]
    assert [app.name] == needs_sample.REGISTERED


def test_permits_cannot_run_without_payments(app_config):
    with pytest.raises(RuntimeError, match="'permits' needs the service 'payments'"):
        _start(app_config, ["appointments", "dataaccess", "permits"])
