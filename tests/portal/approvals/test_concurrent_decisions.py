"""Two treasurers press "Freigeben"/"Ablehnen" on the same request at the same moment: exactly one wins.

Each decider runs in its own thread, app context and connection. On PostgreSQL the loser's conditional
UPDATE waits for the winner's row lock and then matches no open row; on a SQLite file the loser waits for
the write lock (busy timeout) and finds the request decided. The winner's callback is slowed down so the
two transactions really overlap.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from portal.actors import Actor
from portal.approvals.models import ApprovalRequest
from portal.approvals.services import ApprovalError, decide
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.portal.approvals.conftest import ask_refund


def test_two_deciders_at_once_one_wins(app, effects, clerk, treasurer, second_treasurer, citizen):
    request_id = ask_refund(clerk, citizen).id
    decider_ids = [treasurer.id, second_treasurer.id]
    effects.delay = 0.3
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def attempt(user_id: int, approve: bool) -> None:
        from portal.accounts.models import User

        with app.app_context():
            try:
                actor = Actor.for_user(db.session.get(User, user_id))
                barrier.wait()
                decide(actor, request_id, approve=approve, note="" if approve else "abgelehnt")
                outcomes[user_id] = "approved" if approve else "rejected"
            except ApprovalError as error:
                outcomes[user_id] = error.code
            except Exception as error:  # reported by the assertions below
                outcomes[user_id] = f"error: {error!r}"
            finally:
                db.session.remove()

    db.session.remove()
    threads = [
        threading.Thread(target=attempt, args=(decider_ids[0], True)),
        threading.Thread(target=attempt, args=(decider_ids[1], False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes.values()) in (["approved", "not_open"], ["not_open", "rejected"]), outcomes
    winner = next(user_id for user_id, outcome in outcomes.items() if outcome != "not_open")
    row = db.session.get(ApprovalRequest, request_id)
    assert row.decided_by_id == winner and row.state == outcomes[winner]
    decisions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.in_(["approval.approved", "approval.rejected"]))
    ).all()
    assert decisions == [f"approval.{row.state}"]
    assert len(effects.approved) + len(effects.rejected) == 1
