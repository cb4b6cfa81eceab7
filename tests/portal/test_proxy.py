"""Behind a reverse proxy the client's address comes from X-Forwarded-For, and only when configured."""

import pytest

from portal.audit.models import AuditEvent
from portal.extensions import db


def _logged_ip(client) -> str | None:
    client.post(
        "/anmelden", data={"email": "nobody@example.org", "password": "x"}, headers={"X-Forwarded-For": "203.0.113.7"}
    )
    event = db.session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
    return event.ip if event else None


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": False, "LOGIN_SLOW_SECONDS": 0}


def test_without_proxy_hops_a_forwarded_header_is_not_believed(app, client):
    assert _logged_ip(client) == "127.0.0.1"


def test_with_one_proxy_hop_the_forwarded_client_address_counts(app_config):
    from portal import create_app

    app = create_app({**app_config, "PROXY_FIX_HOPS": 1}, env="test")
    with app.app_context():
        assert _logged_ip(app.test_client()) == "203.0.113.7"
        db.session.remove()
        db.engine.dispose()
