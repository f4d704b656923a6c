"""Conversations of known ages in both stores, with everything the assistant keeps about them."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, insert, select

from actions import records
from actions.privacy import consent
from actions.records import (
    Booking,
    Handoff,
    OutboxMessage,
    WhatsAppContact,
    WhatsAppInbound,
    WhatsAppOutbound,
    WhatsAppStatus,
)
from actions.tracker_store import EVENTS
from console.models import ConversationNote, ConversationSummary, ConversationTag, ConversationText
from tests.databases import fresh_database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
PHONE = "+447400123456"


@dataclass(frozen=True)
class Stores:
    records: str
    tracker: str


@contextmanager
def both_stores(kind: str, tmp_path: Path):
    """A records database and a separate tracker store database, both of this kind."""
    (tmp_path / "records").mkdir()
    (tmp_path / "tracker").mkdir()
    with (
        fresh_database(kind, tmp_path / "records") as records_url,
        fresh_database(kind, tmp_path / "tracker") as tracker_url,
    ):
        EVENTS.metadata.create_all(records.engine(tracker_url))
        yield Stores(records_url, tracker_url)


def conversation(
    stores: Stores,
    conversation_id: str,
    last_message: datetime,
    *,
    booking_at: datetime | None = None,
    whatsapp: bool = False,
    pending_whatsapp_reply: bool = False,
) -> str | None:
    """Seeds one conversation whose last event is at `last_message`; returns its booking reference."""
    start = last_message - timedelta(minutes=10)
    texts = ["hello", "I'm pregnant, can I have laser?", "my number is 07400 123456"]
    rows = [
        {
            "sender_id": conversation_id,
            "type_name": "user",
            "timestamp": (start + timedelta(minutes=5 * i)).timestamp(),
            "intent_name": "greet",
            "action_name": None,
            "data": json.dumps({"event": "user", "text": text}),
        }
        for i, text in enumerate(texts)
    ]
    with records.engine(stores.tracker).begin() as connection:
        connection.execute(insert(EVENTS), rows)
    channel = "whatsapp" if whatsapp else "socketio"
    reference = None
    with records.session(stores.records) as db:
        summary = ConversationSummary(
            conversation_id=conversation_id,
            channel=channel,
            started_at=start,
            started_on=date(start.year, start.month, start.day),
            last_at=last_message,
            first_question="hello",
            visitor_messages=3,
        )
        db.add(summary)
        db.flush()
        db.add(ConversationText(summary_id=summary.id, visitor_text=" ".join(texts)))
        db.add(ConversationNote(conversation_id=conversation_id, at=last_message, author="anna", text="called back"))
        db.add(ConversationTag(conversation_id=conversation_id, tag="pregnancy"))
        consent.record(db, conversation_id, consent.SCREENING, True, channel, "May I ask about your health?")
        db.query(records.Consent).filter_by(conversation_id=conversation_id).update({"at": start})
        if booking_at is not None:
            reference = records.new_reference("BK")
            booking = Booking(
                reference=reference,
                created_at=booking_at,
                conversation_id=conversation_id,
                channel=channel,
                kind="laser_consultation",
                name="Maria Lopez",
                phone=PHONE,
                email="maria@example.com",
                window_start=booking_at,
                window_end=booking_at + timedelta(hours=4),
                preferred_time_text="tuesday afternoon",
                concern="acne scars",
                contact_consent=True,
                screening_outcome="clinician_review",
                screening_reasons='["pregnancy"]',
                status="delivered",
            )
            db.add(booking)
            db.flush()
            sent = records.queue(db, "booking", reference, "webhook", "http://127.0.0.1:9/hook", booking.as_payload())
            sent.status, sent.created_at = "delivered", booking_at
            handoff = Handoff(
                reference=records.new_reference("HO"),
                created_at=booking_at,
                conversation_id=conversation_id,
                channel=channel,
                reason="asked",
                contact=PHONE,
            )
            db.add(handoff)
        if whatsapp:
            db.add(
                WhatsAppContact(conversation_id=conversation_id, wa_id=conversation_id, last_inbound_at=last_message)
            )
            db.add(
                WhatsAppInbound(
                    message_id=f"wamid.in.{conversation_id}",
                    conversation_id=conversation_id,
                    received_at=last_message,
                    message="{}",
                    state="done",
                )
            )
            db.add(
                WhatsAppOutbound(
                    conversation_id=conversation_id,
                    created_at=last_message,
                    body='{"text": {"body": "Hello"}}',
                    state="sent",
                    message_id=f"wamid.out.{conversation_id}",
                )
            )
            db.add(
                WhatsAppStatus(
                    message_id=f"wamid.out.{conversation_id}", status="read", at=last_message, recipient=conversation_id
                )
            )
            if pending_whatsapp_reply:
                db.add(
                    WhatsAppOutbound(
                        conversation_id=conversation_id, created_at=last_message, body='{"text": {}}', state="pending"
                    )
                )
    return reference


def transcript_events(stores: Stores, conversation_id: str) -> int:
    query = select(func.count()).select_from(EVENTS).where(EVENTS.c.sender_id == conversation_id)
    with records.engine(stores.tracker).connect() as connection:
        return connection.scalar(query)


def held_about(stores: Stores, conversation_id: str) -> dict[str, int]:
    """How many rows of each kind still carry this conversation id (the tracker store's too)."""
    counts = {"transcript_events": transcript_events(stores, conversation_id)}
    with records.session(stores.records) as db:
        for model in (
            ConversationSummary,
            ConversationNote,
            ConversationTag,
            records.Consent,
            Booking,
            Handoff,
            WhatsAppContact,
            WhatsAppInbound,
            WhatsAppOutbound,
        ):
            counts[model.__tablename__] = db.scalar(
                select(func.count()).select_from(model).where(model.conversation_id == conversation_id)
            )
        counts["whatsapp_statuses"] = db.scalar(
            select(func.count()).select_from(WhatsAppStatus).where(WhatsAppStatus.recipient == conversation_id)
        )
        summaries = select(ConversationSummary.id)
        counts["console_texts_left_behind"] = db.scalar(
            select(func.count()).select_from(ConversationText).where(ConversationText.summary_id.not_in(summaries))
        )
    return {kind: count for kind, count in counts.items() if count}


def booking(stores: Stores, reference: str) -> Booking:
    with records.session(stores.records) as db:
        return db.scalars(select(Booking).where(Booking.reference == reference)).one()


def outbox(stores: Stores, key: str) -> list[OutboxMessage]:
    with records.session(stores.records) as db:
        return list(db.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)))
