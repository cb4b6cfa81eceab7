"""`flask tokens create|list|revoke` and what a client can then do with the token."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from portal.accounts.models import ApiToken
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.timeutil import as_utc, utcnow
from tests.builders import make_department, make_user

TOKEN_RE = re.compile(r"^(sp_[A-Za-z0-9_-]{43})$", re.MULTILINE)


def create(runner, *args: str) -> str:
    result = runner.invoke(args=["tokens", "create", *args])
    assert result.exit_code == 0, result.output
    match = TOKEN_RE.search(result.output)
    assert match, result.output
    return match.group(1)


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_create_prints_the_token_once_and_stores_only_its_hash(runner):
    raw = create(runner, "--name", "SIEM", "--scope", "audit", "--scope", "metrics", "--days", "30")

    token = db.session.scalar(sa.select(ApiToken))
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.scopes == "audit metrics"
    assert token.prefix == raw[:10]
    assert timedelta(days=29) < as_utc(token.expires_at) - utcnow() <= timedelta(days=30)
    stored = " ".join(str(v) for v in db.session.execute(sa.select(ApiToken.__table__)).one())
    assert raw not in stored
    listing = runner.invoke(args=["tokens", "list"]).output
    assert "SIEM" in listing and raw[:10] in listing and "active" in listing
    assert raw not in listing
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "token.created"))
    assert event.actor_type == "system"
    assert raw not in event.details


def test_created_token_reads_the_audit_feed(runner, client):
    raw = create(runner, "--name", "SIEM", "--scope", "audit")
    response = client.get("/api/v1/audit/events", headers=bearer(raw))
    assert response.status_code == 200
    assert [e["action"] for e in response.get_json()["events"]][:1] == ["token.created"]


def test_unknown_scope_is_refused(runner):
    result = runner.invoke(args=["tokens", "create", "--name", "x", "--scope", "everything"])
    assert result.exit_code != 0
    assert "everything" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_token_for_a_person_needs_an_existing_staff_account(runner):
    make_user("buerger@example.org")
    result = runner.invoke(
        args=["tokens", "create", "--name", "x", "--scope", "audit", "--user", "buerger@example.org"]
    )
    assert result.exit_code != 0
    assert "Beschäftigte" in result.output
    result = runner.invoke(args=["tokens", "create", "--name", "x", "--scope", "audit", "--user", "nobody@example.org"])
    assert result.exit_code != 0

    clerk = make_user("clerk@example.org", department=make_department(), department_role="clerk")
    create(runner, "--name", "Sachbearbeitung", "--scope", "appointments", "--user", "Clerk@example.org")
    assert db.session.scalar(sa.select(ApiToken.user_id)) == clerk.id


def test_too_long_validity_is_refused(runner):
    result = runner.invoke(args=["tokens", "create", "--name", "x", "--scope", "audit", "--days", "5000"])
    assert result.exit_code != 0
    assert "Tagen" in result.output


def test_revoked_token_is_refused_from_then_on(runner, client):
    raw = create(runner, "--name", "SIEM", "--scope", "audit")
    token_id = db.session.scalar(sa.select(ApiToken.id))
    assert client.get("/api/v1/audit/events", headers=bearer(raw)).status_code == 200

    result = runner.invoke(args=["tokens", "revoke", str(token_id)])
    assert result.exit_code == 0, result.output
    assert "revoked" in result.output

    response = client.get("/api/v1/audit/events", headers=bearer(raw))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output
    revoked = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "token.revoked"))
    assert revoked is not None and revoked.target_id == str(token_id)


def test_revoking_an_unknown_token_says_so(runner):
    result = runner.invoke(args=["tokens", "revoke", "999"])
    assert result.exit_code != 0
    assert "gibt es nicht" in result.output


def test_expired_token_is_refused(runner, client):
    raw = create(runner, "--name", "SIEM", "--scope", "audit")
    token = db.session.scalar(sa.select(ApiToken))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    response = client.get("/api/v1/audit/events", headers=bearer(raw))
    assert response.status_code == 401
    assert "expired" in runner.invoke(args=["tokens", "list"]).output


def test_token_of_a_deleted_person_is_refused(runner, client):
    clerk = make_user("clerk@example.org", department=make_department(), department_role="clerk")
    raw = create(runner, "--name", "x", "--scope", "audit", "--user", "clerk@example.org")
    clerk.deleted_at = utcnow()
    db.session.commit()
    assert client.get("/api/v1/audit/events", headers=bearer(raw)).status_code == 401


def test_token_without_the_scope_is_forbidden_and_the_attempt_audited(runner, client):
    raw = create(runner, "--name", "Termine", "--scope", "appointments")
    response = client.get("/api/v1/audit/events", headers=bearer(raw))

    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 403
    event = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert (event.action, event.outcome, event.actor_type) == ("token.used", "denied", "client")


def test_token_use_is_audited_with_scope_and_endpoint_and_stamps_last_use(runner, client):
    raw = create(runner, "--name", "SIEM", "--scope", "audit")
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) is None

    client.get("/api/v1/audit/events", headers=bearer(raw))

    db.session.expire_all()
    token = db.session.scalar(sa.select(ApiToken))
    assert token.last_used_at is not None
    used = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "token.used"))
    assert used.outcome == "success"
    assert used.actor_id == f"token:{token.id}"
    assert '"endpoint":"audit_api.list_events"' in used.details
    assert '"scope":"audit"' in used.details


def test_lookalike_and_missing_tokens_are_unauthorised(client):
    assert client.get("/api/v1/audit/events").status_code == 401
    assert client.get("/api/v1/audit/events", headers=bearer("sp_" + "A" * 43)).status_code == 401
    assert client.get("/api/v1/audit/events", headers={"Authorization": "Basic eDp5"}).status_code == 401
