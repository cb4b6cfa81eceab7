"""Every route declares an access rule (after GOV.UK Notify's route-authentication test).

A route without one is refused at runtime (fail closed); this test names it before anybody meets that 403.
"""

from __future__ import annotations

import pytest

from portal import access, declarations

ALL_SERVICES = ["appointments", "payments", "participation", "dataaccess", "permits"]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SERVICES": ALL_SERVICES}


def test_every_route_declares_an_access_rule(app):
    assert app.extensions["stadtportal_services"] == ALL_SERVICES
    missing = sorted(
        f"{rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        if access.rule_for(app, rule.endpoint) is None
    )
    assert not missing, "routes without an access rule (add @access.public/signed_in/roles/token):\n" + "\n".join(
        missing
    )


@pytest.mark.parametrize(
    ("endpoint", "kind"),
    [
        ("pages.home", "public"),
        ("pages.barrierefreiheit_feedback", "public"),
        ("pages.healthz", "public"),
        ("pages.readyz", "public"),
        ("static", "public"),
        ("accounts.login", "public"),
        ("accounts.register", "public"),
        ("me.index", "signed_in"),
        ("accounts.logout", "signed_in"),
        ("accounts.totp_setup", "signed_in"),
    ],
)
def test_known_routes_have_the_expected_rule(app, endpoint, kind):
    rule = access.rule_for(app, endpoint)
    assert rule is not None
    assert rule.kind == kind


def test_staff_must_set_up_two_factor_before_anything_but_setup_and_sign_out(app):
    assert access.rule_for(app, "accounts.totp_setup").before_mfa
    assert access.rule_for(app, "accounts.logout").before_mfa
    assert not access.rule_for(app, "me.index").before_mfa


def test_admin_pages_are_for_staff_only(app):
    admin = {
        rule.endpoint: access.rule_for(app, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin")
    }
    assert admin, "no admin pages registered"
    declared = set(declarations.roles(app))
    for endpoint, rule in admin.items():
        assert rule is not None and rule.kind in {"role", "staff"}, endpoint
        assert rule.roles <= declared, endpoint
    assert access.rule_for(app, "mail_admin.index").roles == {"platform_admin"}


def test_api_routes_need_a_token_or_are_public(app):
    kinds = {
        rule.endpoint: access.rule_for(app, rule.endpoint).kind
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and access.rule_for(app, rule.endpoint) is not None
    }
    assert kinds, "no API routes registered"
    # /api/v1/me/... answers the signed-in person about themselves over the session cookie (CSRF-checked by
    # portal.api for anything but GET); every other API route needs a token or is public.
    me = {endpoint for endpoint, kind in kinds.items() if kind == "signed_in"}
    me_rules = {r.rule for r in app.url_map.iter_rules() if r.endpoint in me}
    assert all(rule.startswith("/api/v1/me/") for rule in me_rules), me_rules
    assert set(kinds.values()) <= {"token", "public", "signed_in"}
    assert "token" in kinds.values()


def test_a_route_without_a_rule_is_refused(app, client):
    app.add_url_rule("/_test/forgotten", "test_forgotten", lambda: "secret")
    assert client.get("/_test/forgotten").status_code == 403
