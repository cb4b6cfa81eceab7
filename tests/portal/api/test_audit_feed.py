"""GET /api/v1/audit/events: the audit trail, page by page, for a SIEM holding the audit scope."""

from __future__ import annotations

import pytest

from portal.accounts.tokens import create_token
from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.transaction import transaction


@pytest.fixture
def siem(client):
    _, raw = create_token(SYSTEM, "SIEM", ["audit"])
    return {"Authorization": f"Bearer {raw}"}


def record_checkpoints(count: int) -> None:
    with transaction():
        for seq in range(count):
            audit.record("audit.checkpoint", SYSTEM, seq=seq)


def test_events_come_oldest_first_with_their_chain_hashes(client, siem):
    record_checkpoints(2)
    body = client.get("/api/v1/audit/events", headers=siem).get_json()
    events = body["events"]
    # token.created, two checkpoints, then this very request's token.used
    assert [e["action"] for e in events] == ["token.created", "audit.checkpoint", "audit.checkpoint", "token.used"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert events[1]["prev_hash"] == events[0]["hash"]
    assert events[2]["details"] == {"seq": 1}
    assert events[0]["occurred_at"].endswith("+00:00")
    assert body["next_after_seq"] == 4
    assert body["has_more"] is False


def test_paging_with_after_seq_and_limit(client, siem):
    record_checkpoints(5)
    first = client.get("/api/v1/audit/events?limit=2", headers=siem).get_json()
    assert [e["seq"] for e in first["events"]] == [1, 2]
    assert first["has_more"] is True
    second = client.get(f"/api/v1/audit/events?after_seq={first['next_after_seq']}&limit=2", headers=siem).get_json()
    assert [e["seq"] for e in second["events"]] == [3, 4]


def test_nothing_new_keeps_the_position(client, siem):
    body = client.get("/api/v1/audit/events?after_seq=1000", headers=siem).get_json()
    assert body == {"events": [], "next_after_seq": 1000, "has_more": False}
