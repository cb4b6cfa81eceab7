"""A test kind of approval whose callback writes a real audit event, and the people who ask and decide.

No production service registers a kind in the core; these kinds exist only in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from portal.actors import Actor
from portal.approvals.models import ApprovalRequest
from portal.approvals.services import ApprovalKind, register_kind, request_approval
from portal.audit import services as audit
from portal.audit.registry import declare
from tests.builders import make_department, make_user

declare("tests.refund_paid", ["reference", "amount_cents"], "Test: the approved effect of a refund")
declare("tests.refund_reopened", ["reference"], "Test: the effect of a rejected refund")


@dataclass
class Effects:
    """What the callbacks did; `fail` makes on_approved raise after writing its event."""

    approved: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    fail: bool = False
    delay: float = 0.0


@pytest.fixture
def effects(app) -> Effects:
    effects = Effects()

    def pay(actor: Actor, request: ApprovalRequest) -> None:
        if effects.delay:
            import time

            time.sleep(effects.delay)  # keeps the row locked while a second decider arrives
        audit.record("tests.refund_paid", actor, target=request, reference=request.reference, **request.payload)
        if effects.fail:
            raise RuntimeError("payment provider refused")
        effects.approved.append(request.reference)

    def reopen(actor: Actor, request: ApprovalRequest) -> None:
        audit.record("tests.refund_reopened", actor, target=request, reference=request.reference)
        effects.rejected.append(request.reference)

    register_kind(
        app,
        ApprovalKind(
            name="tests.refund",
            label="Test-Erstattung",
            decider_roles=("treasury",),
            on_approved=pay,
            on_rejected=reopen,
            on_withdrawn=lambda actor, request: effects.withdrawn.append(request.reference),
            describe=lambda r: f"Erstattung von {r.payload['amount_cents'] / 100:.2f} EUR",
            citizen_visible=True,
        ),
    )
    register_kind(
        app,
        ApprovalKind(
            name="tests.access",
            label="Test-Datenzugang",
            decider_roles=("data_steward",),
            on_approved=lambda actor, request: effects.approved.append(request.reference),
            department_scoped=True,
        ),
    )
    return effects


@pytest.fixture
def buergeramt(app):
    return make_department("buergeramt", "Bürgeramt")


@pytest.fixture
def bauamt(app):
    return make_department("bauordnung", "Bauordnungsamt")


@pytest.fixture
def citizen(app):
    return make_user("citizen@example.org", display_name="Clara Citizen")


@pytest.fixture
def clerk(buergeramt):
    return make_user(
        "clerk@stadt.example", department=buergeramt, department_role="clerk", totp=True, display_name="Karl Clerk"
    )


@pytest.fixture
def treasurer(app):
    return make_user("kasse@stadt.example", roles=("treasury",), totp=True, display_name="Tina Kasse")


@pytest.fixture
def second_treasurer(app):
    return make_user("kasse2@stadt.example", roles=("treasury",), totp=True, display_name="Theo Kasse")


def ask_refund(requester, citizen, amount_cents: int = 1500, subject_id: int = 7, reason: str = "doppelt bezahlt"):
    return request_approval(
        Actor.for_user(requester),
        "tests.refund",
        ("payment_order", subject_id),
        {"amount_cents": amount_cents},
        reason,
        subject_user_id=citizen.id,
    )
