"""The right of access: everything held about one visitor's conversation, as one JSON document."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from actions import records
from actions.privacy import consent, erasure
from actions.records import Booking, Handoff, WhatsAppContact, WhatsAppInbound, WhatsAppOutbound
from actions.tracker_store import EVENTS, tracker_database_url
from console.models import ConversationNote, ConversationTag


def export_visitor(conversation_id: str, records_url: str | None = None, tracker_url: str | None = None) -> dict:
    transcript = _transcript(conversation_id, tracker_url or tracker_database_url())
    with records.session(records_url) as db:
        by_conversation = {"conversation_id": conversation_id}
        bookings = list(db.scalars(select(Booking).filter_by(**by_conversation).order_by(Booking.id)))
        handoffs = list(db.scalars(select(Handoff).filter_by(**by_conversation).order_by(Handoff.id)))
        ledger = consent.ledger(db, conversation_id)
        wordings = consent.wordings(db, {c.wording_version for c in ledger})
        contact = db.get(WhatsAppContact, conversation_id)
        sent = db.scalars(select(WhatsAppOutbound).filter_by(**by_conversation).order_by(WhatsAppOutbound.id))
        waiting = db.scalars(select(WhatsAppInbound).filter_by(**by_conversation).order_by(WhatsAppInbound.id))
        notes = db.scalars(select(ConversationNote).filter_by(**by_conversation).order_by(ConversationNote.id))
        tags = db.scalars(select(ConversationTag.tag).filter_by(**by_conversation).order_by(ConversationTag.tag))
        return {
            "conversation_id": conversation_id,
            "exported_at": records.utcnow().isoformat(),
            "transcript": transcript,
            "bookings": [{**b.as_payload(ledger), "status": b.status} for b in bookings],
            "handoffs": [{**h.as_payload(), "status": h.status} for h in handoffs],
            "consents": [{**c.as_payload(), "wording": wordings.get(c.wording_version)} for c in ledger],
            "whatsapp": _whatsapp(contact, sent, waiting),
            "staff_notes": [{"at": n.at.isoformat(), "author": n.author, "text": n.text} for n in notes],
            "staff_tags": list(tags),
            "erasures": erasure.find(conversation_id, records_url),
        }


def _transcript(conversation_id: str, tracker_url: str) -> list[dict[str, Any]]:
    """The events as Rasa stores them (what was said, and what the assistant made of it)."""
    query = select(EVENTS.c.data).where(EVENTS.c.sender_id == conversation_id).order_by(EVENTS.c.id)
    with records.engine(tracker_url).connect() as connection:
        return [json.loads(data) for data in connection.scalars(query)]


def _whatsapp(contact: WhatsAppContact | None, sent, waiting) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {
        "wa_id": contact.wa_id,
        "user_id": contact.user_id,
        "last_message_at": contact.last_inbound_at and contact.last_inbound_at.isoformat(),
        "opted_out_at": contact.opted_out_at and contact.opted_out_at.isoformat(),
        "messages_sent": [
            {"at": m.created_at.isoformat(), "state": m.state, "message": json.loads(m.body)} for m in sent
        ],
        "messages_not_yet_answered": [json.loads(m.message) for m in waiting if m.state != "done"],
    }
