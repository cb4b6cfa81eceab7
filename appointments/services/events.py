"""In-process events between the appointment areas, so booking need not know who listens.

The waitlist subscribes with `SEATS_FREED.append(listener)`; booking calls `on_seats_freed` after the
transaction that freed the seats has committed, so a failing listener can never undo a cancellation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

log = logging.getLogger(__name__)

# listener(location_id, units): `units` are the UTC unit starts in which a seat became free (or went into a
# cool-down hold with booking_id null, see SeatClaim).
SeatsFreedListener = Callable[[int, Sequence[datetime]], None]
SEATS_FREED: list[SeatsFreedListener] = []


def on_seats_freed(location_id: int, units: Sequence[datetime]) -> None:
    """Tell every listener; one listener's failure is logged and does not stop the others."""
    if not units:
        return
    for listener in list(SEATS_FREED):
        try:
            listener(location_id, list(units))
        except Exception:
            log.exception("seats-freed listener %r failed", listener, extra={"location_id": location_id})
