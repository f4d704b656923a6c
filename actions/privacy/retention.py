"""Retention: what is older than clinic.yml's `retention` allows is deleted or anonymised.

Conversations count from their last event: one whose visitor wrote within `transcripts_days`
is kept whole. Bookings count from their creation: after `bookings_days` they keep only
their reference, kind, dates and delivery state. Work goes in batches, each its own short
transaction, so the assistant is never locked out of either database for long.
Run daily by the delivery worker, and by `make purge`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from actions import records
from actions.clinic_config import Retention
from actions.privacy.erasure import (
    ERASED_BODY,
    anonymise_booking,
    anonymise_handoff,
    delete_console_rows,
    delete_rows,
)
from actions.records import (
    Booking,
    Consent,
    Handoff,
    OutboxMessage,
    WhatsAppContact,
    WhatsAppInbound,
    WhatsAppOutbound,
    WhatsAppStatus,
)
from actions.tracker_store import EVENTS, has_events, tracker_database_url
from console.models import ConversationNote, ConversationSummary

BATCH_SIZE = 500


def purge(
    retention: Retention,
    now: datetime | None = None,
    records_url: str | None = None,
    tracker_url: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> dict[str, int]:
    """Applies the retention periods; returns how many of each kind of thing went."""
    now = now or records.utcnow()
    transcripts = now - timedelta(days=retention.transcripts_days)
    bookings = now - timedelta(days=retention.bookings_days)
    removed: Counter[str] = Counter()
    removed.update(_purge_transcripts(tracker_url or tracker_database_url(), transcripts, records_url, batch_size))
    purge_records = _RecordsPurge(records_url, batch_size, removed)
    purge_records.conversations_indexed_before(transcripts)
    purge_records.whatsapp_before(transcripts)
    purge_records.deliveries_before(transcripts)
    purge_records.handoffs_before(transcripts)
    purge_records.consents(transcripts, bookings)
    purge_records.bookings_before(bookings)
    return {kind: count for kind, count in sorted(removed.items()) if count}


def _purge_transcripts(tracker_url: str, cutoff: datetime, records_url: str | None, batch_size: int) -> Counter:
    removed: Counter[str] = Counter()
    if not has_events(tracker_url):
        return removed
    stale = (
        select(EVENTS.c.sender_id)
        .group_by(EVENTS.c.sender_id)
        .having(func.max(EVENTS.c.timestamp) < cutoff.timestamp())
        .limit(batch_size)
    )
    engine = records.engine(tracker_url)
    while True:
        with engine.begin() as connection:
            conversations = list(connection.scalars(stale))
            if not conversations:
                return removed
            deleted = connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(conversations)))
        removed["conversations"] += len(conversations)
        removed["transcript_events"] += deleted.rowcount
        with records.session(records_url) as db:
            removed.update(delete_console_rows(db, conversations))
            removed["whatsapp_messages_received"] += delete_rows(
                db, WhatsAppInbound, WhatsAppInbound.conversation_id.in_(conversations)
            )


class _RecordsPurge:
    """The records database's side, by each row's own age, one batch per transaction."""

    def __init__(self, url: str | None, batch_size: int, removed: Counter) -> None:
        self.url, self.batch_size, self.removed = url, batch_size, removed

    def _batches(self, kind: str, ids_query, apply: Callable[[Session, list], int]) -> None:
        while True:
            with records.session(self.url) as db:
                ids = list(db.scalars(ids_query.limit(self.batch_size)))
                if not ids:
                    return
                self.removed[kind] += apply(db, ids)

    def conversations_indexed_before(self, cutoff: datetime) -> None:
        """Console rows of conversations whose transcript went before the console indexed its end."""
        stale = select(ConversationSummary.conversation_id).where(ConversationSummary.last_at < cutoff)
        self._batches("console_summaries", stale, lambda db, ids: delete_console_rows(db, ids)["console_summaries"])
        old_notes = select(ConversationNote.id).where(ConversationNote.at < cutoff)
        self._batches(
            "console_notes", old_notes, lambda db, ids: delete_rows(db, ConversationNote, ConversationNote.id.in_(ids))
        )

    def whatsapp_before(self, cutoff: datetime) -> None:
        inbound = select(WhatsAppInbound.id).where(WhatsAppInbound.received_at < cutoff)
        self._batches(
            "whatsapp_messages_received",
            inbound,
            lambda db, ids: delete_rows(db, WhatsAppInbound, WhatsAppInbound.id.in_(ids)),
        )
        outbound = select(WhatsAppOutbound.id).where(WhatsAppOutbound.created_at < cutoff)
        outbound = outbound.where(WhatsAppOutbound.state != "pending")
        self._batches(
            "whatsapp_messages_sent",
            outbound,
            lambda db, ids: delete_rows(db, WhatsAppOutbound, WhatsAppOutbound.id.in_(ids)),
        )
        statuses = select(WhatsAppStatus.id).where(WhatsAppStatus.at < cutoff)
        self._batches(
            "whatsapp_statuses", statuses, lambda db, ids: delete_rows(db, WhatsAppStatus, WhatsAppStatus.id.in_(ids))
        )
        contacts = select(WhatsAppContact.conversation_id).where(WhatsAppContact.last_inbound_at < cutoff)
        self._batches(
            "whatsapp_contacts",
            contacts,
            lambda db, ids: delete_rows(db, WhatsAppContact, WhatsAppContact.conversation_id.in_(ids)),
        )

    def deliveries_before(self, cutoff: datetime) -> None:
        """A delivered (or refused) message's body is a copy of the booking; the row stays as its receipt."""
        done = select(OutboxMessage.id).where(
            OutboxMessage.created_at < cutoff, OutboxMessage.status != "pending", OutboxMessage.body != ERASED_BODY
        )
        self._batches(
            "deliveries_cleared",
            done,
            lambda db, ids: (
                db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(body=ERASED_BODY)).rowcount
            ),
        )

    def handoffs_before(self, cutoff: datetime) -> None:
        old = select(Handoff.id).where(Handoff.created_at < cutoff, Handoff.erased_at.is_(None))
        self._batches("handoffs_anonymised", old, lambda db, ids: _each(db, Handoff, ids, anonymise_handoff))

    def consents(self, transcripts: datetime, bookings: datetime) -> None:
        """Consent records last as long as what they allowed: a chat's, or a booking's."""
        booked = select(Booking.conversation_id)
        unbooked = select(Consent.id).where(Consent.at < transcripts, Consent.conversation_id.not_in(booked))
        expired = select(Consent.id).where(Consent.at < bookings)
        for query in (unbooked, expired):
            self._batches("consents", query, lambda db, ids: delete_rows(db, Consent, Consent.id.in_(ids)))

    def bookings_before(self, cutoff: datetime) -> None:
        old = select(Booking.id).where(Booking.created_at < cutoff, Booking.erased_at.is_(None))
        self._batches("bookings_anonymised", old, lambda db, ids: _each(db, Booking, ids, anonymise_booking))


def _each(db: Session, model, ids: list[int], anonymise: Callable) -> int:
    now = records.utcnow()
    rows = list(db.scalars(select(model).where(model.id.in_(ids))))
    for row in rows:
        anonymise(row, now)
    return len(rows)
