"""/metrics: Prometheus text for operators holding a token with the metrics scope."""

from __future__ import annotations

import re

import pytest

from portal import create_app
from portal.accounts.tokens import create_token
from portal.actors import SYSTEM
from portal.extensions import db
from portal.mail.models import OutboxMessage


@pytest.fixture
def operator():
    _, raw = create_token(SYSTEM, "Prometheus", ["metrics"])
    return {"Authorization": f"Bearer {raw}"}


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in the exposition text, or None."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(4))
    return None


def add_mail(status: str, n: int) -> None:
    for i in range(n):
        db.session.add(
            OutboxMessage(
                message_id=f"<{status}-{i}@test>", recipient="a@example.org", subject="s", body_text="b", status=status
            )
        )
    db.session.commit()


def test_metrics_need_a_token(client):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_metrics_need_the_metrics_scope(client):
    _, raw = create_token(SYSTEM, "SIEM", ["audit"])
    assert client.get("/metrics", headers={"Authorization": f"Bearer {raw}"}).status_code == 403


def test_requests_are_counted_and_timed_per_endpoint(client, operator):
    for _ in range(3):
        assert client.get("/").status_code == 200
    client.get("/gibt-es-nicht")
    client.get("/api/v1/audit/events")  # refused: 401

    response = client.get("/metrics", headers=operator)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert sample(text, "stadtportal_http_requests_total", endpoint="pages.home", method="GET", status="200") == 3
    assert sample(text, "stadtportal_http_requests_total", endpoint="unmatched", status="404") == 1
    assert sample(text, "stadtportal_http_requests_total", endpoint="audit_api.list_events", status="401") == 1
    assert sample(text, "stadtportal_http_request_duration_seconds_count", endpoint="pages.home", method="GET") == 3
    assert sample(text, "stadtportal_http_request_duration_seconds_sum", endpoint="pages.home") > 0
    assert "/gibt-es-nicht" not in text


def test_outbox_backlog_counts_pending_and_sending_mail(client, operator):
    add_mail("pending", 2)
    add_mail("sending", 1)
    add_mail("sent", 4)
    add_mail("failed", 1)
    text = client.get("/metrics", headers=operator).get_data(as_text=True)
    assert sample(text, "stadtportal_outbox_backlog") == 3


def test_each_app_counts_for_itself_without_registry_clashes(app_config, client, operator):
    client.get("/")
    other = create_app(app_config, env="test")
    with other.app_context():
        _, raw = create_token(SYSTEM, "Prometheus 2", ["metrics"])
        text = other.test_client().get("/metrics", headers={"Authorization": f"Bearer {raw}"}).get_data(as_text=True)
        db.session.remove()
    assert sample(text, "stadtportal_http_requests_total", endpoint="pages.home") is None


def test_scraping_is_audited_as_token_use(client, operator):
    from portal.audit.models import AuditEvent

    client.get("/metrics", headers=operator)
    last = db.session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
    assert last.action == "token.used"
    assert '"scope":"metrics"' in last.details
