"""The payment state machine: which status may follow which.

A payment order moves forward only:

    created ──► started ──► succeeded ──► partially_refunded ──► refunded
       │           │  ▲
       │           ▼  │ (a new attempt by the payer)
       └──────► failed / cancelled / expired
    (any unpaid) ──► withdrawn (the service that asked withdrew it: nothing is owed any more)

An unsuccessful outcome ends the *attempt*, not the debt: the payer may start a new attempt on the same
order (same Kassenzeichen, same amount), which is the one way back to `started`. Events from providers
can never take that way: an event only ever concerns its own attempt, a finished attempt never changes
again, and the order follows an attempt's outcome only while that attempt is its latest one. Money that
arrives late on an older attempt still counts (`succeeded` is reachable from every unpaid status, and from
`withdrawn`: a payer who still had the provider's page open may pay; the owning service then refunds it).
"""

from __future__ import annotations

from payments.models import AttemptStatus, PaymentStatus

S = PaymentStatus
UNPAID = frozenset({S.CREATED, S.STARTED, S.FAILED, S.CANCELLED, S.EXPIRED})
PAID = frozenset({S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED})
# Nothing is owed: not payable, not outstanding for the treasury.
ENDED = frozenset({S.WITHDRAWN})
# Unpaid, and nobody can pay it any more unless a new attempt is started.
UNSUCCESSFUL = frozenset({S.FAILED, S.CANCELLED, S.EXPIRED})

_NEXT: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.CREATED: frozenset({S.STARTED, S.SUCCEEDED, S.CANCELLED, S.EXPIRED, S.FAILED, S.WITHDRAWN}),
    S.STARTED: frozenset({S.STARTED, S.SUCCEEDED, S.FAILED, S.CANCELLED, S.EXPIRED, S.WITHDRAWN}),
    S.FAILED: frozenset({S.STARTED, S.SUCCEEDED, S.WITHDRAWN}),
    S.CANCELLED: frozenset({S.STARTED, S.SUCCEEDED, S.WITHDRAWN}),
    S.EXPIRED: frozenset({S.STARTED, S.SUCCEEDED, S.WITHDRAWN}),
    S.WITHDRAWN: frozenset({S.SUCCEEDED}),
    S.SUCCEEDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.REFUNDED: frozenset(),
}

FINISHED_ATTEMPT = frozenset(
    {AttemptStatus.SUCCEEDED, AttemptStatus.FAILED, AttemptStatus.CANCELLED, AttemptStatus.EXPIRED}
)
_ATTEMPT_TO_PAYMENT = {
    AttemptStatus.SUCCEEDED: S.SUCCEEDED,
    AttemptStatus.FAILED: S.FAILED,
    AttemptStatus.CANCELLED: S.CANCELLED,
    AttemptStatus.EXPIRED: S.EXPIRED,
}


def may_move(current: str, new: str) -> bool:
    return PaymentStatus(new) in _NEXT[PaymentStatus(current)]


def payment_status_for(outcome: AttemptStatus) -> PaymentStatus:
    return _ATTEMPT_TO_PAYMENT[outcome]


def after_refunds(amount_cents: int, refunded_cents: int) -> PaymentStatus:
    """The status of a paid order once `refunded_cents` have been confirmed back to the payer."""
    if refunded_cents <= 0:
        return S.SUCCEEDED
    return S.REFUNDED if refunded_cents >= amount_cents else S.PARTIALLY_REFUNDED
