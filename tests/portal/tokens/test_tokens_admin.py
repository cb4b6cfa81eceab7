"""The admin pages at /admin/zugaenge: only platform admins; the token is shown once; revoking works."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.accounts.models import ApiToken
from portal.accounts.tokens import create_token
from portal.actors import SYSTEM
from portal.extensions import db
from tests.builders import csrf_from, make_department, make_user
from tests.portal.tokens.conftest import sign_in_directly

RAW_RE = re.compile(r'value="(sp_[A-Za-z0-9_-]{43})"')


def test_platform_admin_creates_a_token_and_sees_it_exactly_once(admin, client):
    page = client.get("/admin/zugaenge/neu")
    assert page.status_code == 200
    response = client.post(
        "/admin/zugaenge/neu",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "name": "SIEM Rechenzentrum",
            "scopes": ["audit", "metrics"],
            "user": "",
            "days": "30",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    raw = RAW_RE.search(html).group(1)
    assert "nur dieses eine Mal" in html

    listing = client.get("/admin/zugaenge/").get_data(as_text=True)
    assert "SIEM Rechenzentrum" in listing
    assert raw[:10] in listing
    assert raw not in listing
    token = db.session.scalar(sa.select(ApiToken))
    assert token.created_by_id == admin.id
    assert token.scopes == "audit metrics"
    assert client.get("/api/v1/audit/events", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_form_errors_are_shown_next_to_the_fields_and_the_input_kept(admin, client):
    page = client.get("/admin/zugaenge/neu")
    response = client.post(
        "/admin/zugaenge/neu",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "name": "Mein Zugang", "days": "90"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Wählen Sie mindestens einen Bereich." in html
    assert 'value="Mein Zugang"' in html
    assert 'id="error-summary"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_token_for_an_unknown_person_is_refused_at_the_field(admin, client):
    page = client.get("/admin/zugaenge/neu")
    response = client.post(
        "/admin/zugaenge/neu",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "name": "Für jemanden",
            "scopes": ["appointments"],
            "user": "niemand@example.org",
            "days": "90",
        },
    )
    html = response.get_data(as_text=True)
    assert "Es gibt kein Konto mit dieser E-Mail-Adresse." in html
    assert 'value="niemand@example.org"' in html


def test_platform_admin_revokes_a_token(admin, client):
    token, _raw = create_token(SYSTEM, "Altes Fachverfahren", ["appointments"])
    page = client.get("/admin/zugaenge/")
    html = page.get_data(as_text=True)
    assert "gültig" in html
    response = client.post(f"/admin/zugaenge/{token.id}/widerrufen", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 302

    html = client.get("/admin/zugaenge/").get_data(as_text=True)
    assert "ist widerrufen" in html
    assert "widerrufen</td>" in html
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None


def test_revoke_without_csrf_token_changes_nothing(admin, client):
    token, _ = create_token(SYSTEM, "Fachverfahren", ["appointments"])
    response = client.post(f"/admin/zugaenge/{token.id}/widerrufen", data={})
    assert response.status_code in {302, 400}
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_other_staff_may_not_manage_tokens(app, client):
    clerk = make_user("clerk@example.org", department=make_department(), department_role="clerk", totp=True)
    sign_in_directly(app, client, clerk)
    assert client.get("/admin/zugaenge/").status_code == 403
    assert client.get("/admin/zugaenge/neu").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/admin/zugaenge/")
    assert response.status_code == 302
    assert "/anmelden" in response.headers["Location"]
