"""Bookings made before the visitor's screening outcome changed: the clinic hears of the change.

A visitor who booked and then writes "sorry, I forgot to say I'm pregnant" must not arrive for a
laser appointment on the strength of their earlier answers. When a new outcome is announced,
every booking of the conversation that carries another outcome is updated, the booking system
gets a signed `screening_update` event (docs/booking-webhook.md; sent only after the booking
itself), and staff get a notification. What leaves the conversation is what the booking carried:
the outcome and reasons with the visitor's consent to the health questions, else "not screened"
(screening/actions.shareable_screening), which no later answer changes.
"""

from __future__ import annotations

import json
import os

from sqlalchemy import select

from actions import records
from actions.records import Booking

BOOKING_EVENT = "screening_update"
STAFF_EVENT = "staff_update"


def update_key(reference: str, outcome: str) -> str:
    """One event per booking and outcome; the delivery worker sends it after `reference` (delivery.py)."""
    return f"{reference}:{outcome}"


def queue_screening_update(conversation_id: str, outcome: str | None, reasons: list[str]) -> list[str]:
    """Stores the new outcome on the conversation's bookings and queues the events; their references."""
    if outcome is None:
        return []
    booking_webhook = os.environ.get("BOOKING_WEBHOOK_URL", "").strip()
    staff_webhook = os.environ.get("STAFF_WEBHOOK_URL", "").strip()
    with records.session() as db:
        bookings = db.scalars(
            select(Booking).where(Booking.conversation_id == conversation_id, Booking.erased_at.is_(None))
        ).all()
        changed = [booking for booking in bookings if booking.screening_outcome != outcome]
        for booking in changed:
            booking.screening_outcome, booking.screening_reasons = outcome, json.dumps(reasons)
            payload = {
                "event": BOOKING_EVENT,
                "reference": booking.reference,
                "updated_at": records.utcnow().isoformat(),
                "screening": {"outcome": outcome, "reasons": reasons},
                "needs_clinician_review": outcome == "clinician_review",
                "laser_possible": outcome == "eligible",
            }
            key = update_key(booking.reference, outcome)
            if booking_webhook:
                records.queue(db, BOOKING_EVENT, key, "webhook", booking_webhook, payload)
            if staff_webhook:
                records.queue(db, STAFF_EVENT, key, "webhook", staff_webhook, payload)
        return [booking.reference for booking in changed]
