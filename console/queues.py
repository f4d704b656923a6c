"""Bookings and handoffs as staff follow them up: delivery state, flagged ones first.

A booking is flagged when the booking system refused it (4xx) and a handoff when its
notification could not be delivered; "retry delivery" puts the outbox entry back in the
delivery worker's queue, "mark handled" records who followed it up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import records
from actions.privacy import consent
from actions.records import Booking, Consent, Handoff, OutboxMessage

PAGE_SIZE = 100


@dataclass(frozen=True)
class QueueItem:
    record: Booking | Handoff
    deliveries: list[OutboxMessage]
    consents: list[Consent] = field(default_factory=list)  # the conversation's ledger (bookings)

    @property
    def flagged(self) -> bool:
        needs_staff = getattr(self.record, "needs_staff", False)
        return needs_staff or any(d.status in ("rejected", "failed") for d in self.deliveries)

    @property
    def delivery_state(self) -> str:
        if self.record.erased_at is not None:
            return "personal details erased"
        if not self.deliveries:
            return "stored only (no delivery configured)"
        states = {d.status for d in self.deliveries}
        if refused := [d for d in self.deliveries if d.status in ("rejected", "failed")]:  # failed: retry cap
            return "refused: " + "; ".join(d.last_error or "" for d in refused)
        if "pending" in states:
            pending = [d for d in self.deliveries if d.status == "pending"]
            tries = max(d.attempts for d in pending)
            return f"waiting ({tries} attempt{'s' * (tries != 1)} so far)" if tries else "waiting"
        return "delivered"


def queue(db: Session, model: type[Booking] | type[Handoff], kind: str, open_only: bool) -> list[QueueItem]:
    """The newest PAGE_SIZE, and every flagged one however old (those need staff most)."""
    refused = select(OutboxMessage.idempotency_key).where(
        OutboxMessage.kind == kind, OutboxMessage.status.in_(("rejected", "failed"))
    )
    flagged = model.reference.in_(refused)
    if model is Booking:
        flagged = flagged | Booking.needs_staff.is_(True)
    newest = select(model).order_by(model.created_at.desc()).limit(PAGE_SIZE)
    needing = select(model).where(flagged).order_by(model.created_at.desc())
    if open_only:
        newest, needing = newest.where(model.handled_at.is_(None)), needing.where(model.handled_at.is_(None))
    by_id = {row.id: row for row in db.scalars(needing)}
    by_id.update({row.id: row for row in db.scalars(newest)})
    rows = sorted(by_id.values(), key=lambda row: row.created_at, reverse=True)
    references = [r.reference for r in rows]
    deliveries: dict[str, list[OutboxMessage]] = {ref: [] for ref in references}
    if references:
        outbox = select(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.idempotency_key.in_(references))
        for message in db.scalars(outbox.order_by(OutboxMessage.id)):
            deliveries[message.idempotency_key].append(message)
    ledgers = _ledgers(db, [row.conversation_id for row in rows if isinstance(row, Booking)])
    items = [QueueItem(row, deliveries[row.reference], ledgers.get(row.conversation_id, [])) for row in rows]
    return sorted(items, key=lambda item: not item.flagged)  # stable: newest first within each group


def for_conversation(db: Session, conversation_id: str) -> list[QueueItem]:
    items = []
    for model, kind in ((Booking, "booking"), (Handoff, "handoff")):
        for row in db.scalars(select(model).where(model.conversation_id == conversation_id)):
            outbox = select(OutboxMessage).where(
                OutboxMessage.kind == kind, OutboxMessage.idempotency_key == row.reference
            )
            ledger = consent.ledger(db, conversation_id) if model is Booking else []
            items.append(QueueItem(row, list(db.scalars(outbox)), ledger))
    return items


def _ledgers(db: Session, conversation_ids: list[str]) -> dict[str, list[Consent]]:
    """The consent ledgers of a page of bookings, in one query."""
    ledgers: dict[str, list[Consent]] = {}
    query = select(Consent).where(Consent.conversation_id.in_(set(conversation_ids))).order_by(Consent.at, Consent.id)
    for answer in db.scalars(query):
        ledgers.setdefault(answer.conversation_id, []).append(answer)
    return ledgers


def retry(db: Session, kind: str, reference: str) -> int:
    """Queues every refused, failed or waiting delivery of this record again, now, with a full
    new round of attempts (staff asked after fixing the cause); returns how many."""
    messages = db.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == kind,
            OutboxMessage.idempotency_key == reference,
            OutboxMessage.status != "delivered",
        )
    )
    count = 0
    for message in messages:
        message.status, message.next_attempt_at, message.attempts = "pending", records.utcnow(), 0
        count += 1
    if kind == "booking":
        booking = db.scalars(select(Booking).where(Booking.reference == reference)).one_or_none()
        if booking is not None:
            booking.needs_staff = False
    return count


def mark_handled(db: Session, model: type[Booking] | type[Handoff], reference: str, by: str) -> bool:
    row = db.scalars(select(model).where(model.reference == reference)).one_or_none()
    if row is None:
        return False
    row.handled_at, row.handled_by = records.utcnow(), by
    return True
