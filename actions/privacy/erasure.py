"""Erasure on request: a conversation's transcript, health answers and contact details go.

What stays is what the clinic must keep: each booking's reference (with its dates and
delivery state, so the clinic's own records still add up) and the fact of the erasure (an
`erasures` row). The booking system gets a signed `erasure` event naming the bookings, so
its copy can follow.

Erasure is two steps because Rasa writes the transcript at the end of every turn: deleting
it during a turn would only see the turn write it back. `request` records what is asked (the
assistant's action does this during the turn); `complete` runs after the turn, under the
conversation's lock (channels/erasure.py, or the staff API for staff), and is idempotent, so
the delivery worker finishes any erasure a crash interrupted.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from actions import records
from actions.records import (
    Booking,
    Consent,
    Erasure,
    Handoff,
    OutboxMessage,
    WhatsAppContact,
    WhatsAppInbound,
    WhatsAppOutbound,
    WhatsAppStatus,
)
from actions.tracker_store import EVENTS, has_events, tracker_database_url
from console.models import ConversationNote, ConversationSummary, ConversationTag, ConversationText, FaqAsk, Relabel

ERASED_BODY = '{"erased":true}'  # what is left of a delivered message's body
WHATSAPP = "whatsapp"
INTERRUPTED_AFTER = timedelta(minutes=1)  # the Rasa server completes an erasure within a second
LAST_REPLY_QUEUED_WITHIN = timedelta(seconds=10)  # the WhatsApp channel queues a turn's replies at its end


def digest(conversation_id: str) -> str:
    return hashlib.sha256(conversation_id.encode()).hexdigest()


@dataclass(frozen=True)
class ErasureReport:
    reference: str
    booking_references: list[str]
    removed: dict[str, int]


def request(conversation_id: str, channel: str, requested_by: str, url: str | None = None) -> ErasureReport:
    """Records an erasure to complete (or the one already waiting for this conversation)."""
    with records.session(url) as db:
        waiting = db.scalars(
            select(Erasure).where(Erasure.conversation_id == conversation_id, Erasure.completed_at.is_(None))
        ).first()
        if waiting is not None:
            return _report(waiting)
        bookings = db.scalars(
            select(Booking.reference).where(Booking.conversation_id == conversation_id).order_by(Booking.id)
        )
        erasure = Erasure(
            reference=records.new_reference("ER"),
            conversation_digest=digest(conversation_id),
            conversation_id=conversation_id,
            channel=channel,
            requested_at=records.utcnow(),
            requested_by=requested_by,
            booking_references=json.dumps(list(bookings)),
        )
        db.add(erasure)
        return _report(erasure)


def complete(reference: str, records_url: str | None = None, tracker_url: str | None = None) -> ErasureReport:
    """Removes everything held about the conversation; safe to run again.

    On WhatsApp the reply saying the data is deleted is queued after the turn, and sending it
    needs the contact's row: those rows go on a later run (the delivery worker's), once the
    reply has been sent.
    """
    with records.session(records_url) as db:
        erasure = db.scalars(select(Erasure).where(Erasure.reference == reference)).one()
        conversation_id, completed = erasure.conversation_id, erasure.completed_at
    if conversation_id is None:
        return _report(erasure)
    removed = {}
    if completed is None:
        removed["transcript_events"] = delete_transcript(conversation_id, tracker_url or tracker_database_url())
    with records.session(records_url) as db:
        erasure = db.scalars(select(Erasure).where(Erasure.reference == reference)).one()
        first_run = erasure.completed_at is None
        if first_run:
            removed |= _erase_records(db, conversation_id, erasure.reference)
            _queue_erasure_event(db, erasure)
            erasure.completed_at = records.utcnow()
            erasure.removed = json.dumps(removed, sort_keys=True)
        if not (first_run and erasure.channel == WHATSAPP) and _finish_whatsapp(
            db, conversation_id, erasure.completed_at
        ):
            erasure.conversation_id = None  # nothing left that needs it
        return _report(erasure)


def delete_transcript(conversation_id: str, tracker_url: str) -> int:
    if not has_events(tracker_url):
        return 0
    with records.engine(tracker_url).begin() as connection:
        return connection.execute(delete(EVENTS).where(EVENTS.c.sender_id == conversation_id)).rowcount


def unfinished(url: str | None = None, now: datetime | None = None) -> list[str]:
    """Erasures still holding their conversation id: interrupted (not completed a minute after
    the request), or completed but with WhatsApp rows to remove once the last reply has gone."""
    now = now or records.utcnow()
    interrupted = Erasure.completed_at.is_(None) & (Erasure.requested_at <= now - INTERRUPTED_AFTER)
    sending = Erasure.completed_at <= now - LAST_REPLY_QUEUED_WITHIN
    with records.session(url) as db:
        query = select(Erasure.reference).where(Erasure.conversation_id.is_not(None), interrupted | sending)
        return list(db.scalars(query))


def find(conversation_id: str, url: str | None = None) -> list[dict[str, Any]]:
    """The erasures recorded for a conversation id (by its digest): the fact the clinic keeps."""
    with records.session(url) as db:
        query = select(Erasure).where(Erasure.conversation_digest == digest(conversation_id)).order_by(Erasure.id)
        return [
            {
                "reference": e.reference,
                "requested_at": e.requested_at.isoformat(),
                "requested_by": e.requested_by,
                "completed_at": e.completed_at and e.completed_at.isoformat(),
                "booking_references": json.loads(e.booking_references),
            }
            for e in db.scalars(query)
        ]


def _report(erasure: Erasure) -> ErasureReport:
    return ErasureReport(erasure.reference, json.loads(erasure.booking_references), json.loads(erasure.removed or "{}"))


def _erase_records(db: Session, conversation_id: str, reference: str) -> dict[str, int]:
    return {
        **_anonymise_bookings_and_handoffs(db, conversation_id, reference),
        "consents": delete_rows(db, Consent, Consent.conversation_id == conversation_id),
        **delete_console_rows(db, [conversation_id]),
        "whatsapp_messages_received": delete_rows(
            db, WhatsAppInbound, WhatsAppInbound.conversation_id == conversation_id
        ),
    }


def _anonymise_bookings_and_handoffs(db: Session, conversation_id: str, reference: str) -> dict[str, int]:
    now = records.utcnow()
    bookings = list(db.scalars(select(Booking).where(Booking.conversation_id == conversation_id)))
    for booking in bookings:
        anonymise_booking(booking, now)
        booking.conversation_id = f"erased:{reference}"
    handoffs = list(db.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id)))
    for handoff in handoffs:
        anonymise_handoff(handoff, now)
        handoff.conversation_id = f"erased:{reference}"
    keys = [b.reference for b in bookings] + [h.reference for h in handoffs]
    outbox = _forget_deliveries(db, keys) if keys else 0
    return {"bookings_anonymised": len(bookings), "handoffs_anonymised": len(handoffs), "deliveries_cleared": outbox}


def anonymise_booking(booking: Booking, now: datetime) -> None:
    """Keeps the reference, kind, dates and delivery state; drops who, what and the health answers."""
    booking.name, booking.phone, booking.email = "", "", None
    booking.preferred_time_text, booking.concern = "", ""
    booking.screening_outcome, booking.screening_reasons = None, "[]"
    booking.erased_at = now


def anonymise_handoff(handoff: Handoff, now: datetime) -> None:
    handoff.contact, handoff.screening_outcome, handoff.erased_at = "", None, now


def _forget_deliveries(db: Session, keys: list[str]) -> int:
    """Undelivered copies are not sent at all; delivered ones lose their body."""
    where = OutboxMessage.idempotency_key.in_(keys), OutboxMessage.kind.in_(("booking", "handoff"))
    db.execute(
        update(OutboxMessage)
        .where(*where, OutboxMessage.status == "pending")
        .values(status="cancelled", last_error="erased at the visitor's request")
    )
    return db.execute(update(OutboxMessage).where(*where).values(body=ERASED_BODY)).rowcount


def delete_console_rows(db: Session, conversations: list[str]) -> dict[str, int]:
    """The staff console's index, tags, notes and relabels of these conversations (erasure and retention)."""
    summaries = select(ConversationSummary.id).where(ConversationSummary.conversation_id.in_(conversations))
    delete_rows(db, ConversationText, ConversationText.summary_id.in_(summaries))
    delete_rows(db, FaqAsk, FaqAsk.summary_id.in_(summaries))
    return {
        "console_summaries": delete_rows(
            db, ConversationSummary, ConversationSummary.conversation_id.in_(conversations)
        ),
        "console_notes": delete_rows(db, ConversationNote, ConversationNote.conversation_id.in_(conversations))
        + delete_rows(db, ConversationTag, ConversationTag.conversation_id.in_(conversations))
        + delete_rows(db, Relabel, Relabel.conversation_id.in_(conversations)),
    }


def _finish_whatsapp(db: Session, conversation_id: str, completed_at: datetime) -> bool:
    """Removes the WhatsApp rows of the erased conversation, its last replies included (queued
    just after the erasure); True once none is left to send.

    A visitor who writes again afterwards starts a new conversation: what they send from then
    on is new data and stays.
    """
    last_reply = completed_at + LAST_REPLY_QUEUED_WITHIN
    before = WhatsAppOutbound.conversation_id == conversation_id, WhatsAppOutbound.created_at <= last_reply
    sent = select(WhatsAppOutbound.message_id).where(*before, WhatsAppOutbound.message_id.is_not(None))
    delete_rows(db, WhatsAppStatus, WhatsAppStatus.message_id.in_(sent))
    delete_rows(db, WhatsAppOutbound, *before, WhatsAppOutbound.state != "pending")
    if db.scalars(select(WhatsAppOutbound.id).where(*before).limit(1)).first():
        return False
    contact = db.get(WhatsAppContact, conversation_id)
    if contact is not None and (contact.last_inbound_at is None or contact.last_inbound_at <= completed_at):
        db.delete(contact)
    return True


def delete_rows(db: Session, model, *where) -> int:
    return db.execute(delete(model).where(*where).execution_options(synchronize_session=False)).rowcount


def _queue_erasure_event(db: Session, erasure: Erasure) -> None:
    """Tells the booking system which of its bookings to erase (nothing to say without bookings)."""
    references = json.loads(erasure.booking_references)
    webhook = os.environ.get("BOOKING_WEBHOOK_URL", "").strip()
    if not references or not webhook:
        return
    payload = {
        "event": "erasure",
        "reference": erasure.reference,
        "requested_at": erasure.requested_at.isoformat(),
        "requested_by": "visitor" if erasure.requested_by == "visitor" else "clinic",
        "bookings": references,
    }
    records.queue(db, "erasure", erasure.reference, "webhook", webhook, payload)
