"""What the fuzzers need beyond the demo data: a booking (with its mailed links), and real ids for path parts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.timeutil import utcnow

LINK_RE = re.compile(r"https?://[^/\s]+(/[^\s\"'<>)]*)")


def book_appointment(client) -> dict[str, Any] | None:
    """Book the first free slot of the first location through the public API; its confirm link goes by mail."""
    services = client.get("/api/v1/appointments/services").get_json()
    for service in services:
        for location in service["locations"]:
            today = utcnow().date()
            slots = client.get(
                "/api/v1/appointments/slots",
                query_string={
                    "service": service["id"],
                    "location": location,
                    "from": (today + timedelta(days=1)).isoformat(),
                    "to": (today + timedelta(days=13)).isoformat(),
                },
            ).get_json()
            if not isinstance(slots, dict) and not isinstance(slots, list):
                continue
            free = slots.get("slots", []) if isinstance(slots, dict) else slots
            if not free:
                continue
            response = client.post(
                "/api/v1/appointments/bookings",
                json={
                    "services": [{"id": service["id"], "quantity": 1}],
                    "location": location,
                    "start": free[0]["start"],
                    "name": "Erika Fuzz",
                    "email": "erika.fuzz@example.org",
                },
            )
            assert response.status_code == 201, response.get_data(as_text=True)
            return response.get_json()
    return None


def mailed_paths() -> list[str]:
    """The site paths of every link in the outbox (confirm, manage, invitation, reset links)."""
    from portal.mail.models import OutboxMessage

    paths: list[str] = []
    for message in db.session.scalars(sa.select(OutboxMessage)):
        for match in LINK_RE.finditer(message.body_text or ""):
            if match.group(1) not in paths:
                paths.append(match.group(1))
    return paths


def real_ids() -> dict[str, list[Any]]:
    """Values of path parameters that name existing rows, by parameter name."""
    from appointments.models import Booking
    from participation.models import Comment, Consultation, Proposal
    from payments.models import Payment

    def first(column: Any, n: int = 3) -> list[Any]:
        return list(db.session.scalars(sa.select(column).limit(n)))

    return {
        "consultation_id": first(Consultation.id),
        "proposal_id": first(Proposal.id),
        "comment_id": first(Comment.id),
        "public_id": first(Payment.public_id),
        "reference": first(Booking.reference),
    }
