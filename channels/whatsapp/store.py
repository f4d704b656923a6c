"""The WhatsApp channel's records (tables in actions/records.py), as plain blocking functions.

The channel calls them through `asyncio.to_thread`, so the Rasa server's event loop never
waits on the database. Inserts that must happen once (a message id, a status) use the
database's own "on conflict do nothing", which holds across threads, processes and servers.

Several Rasa servers may share the database, each running a courier: a server claims a
conversation's oldest due message with a lease (its id in `claimed_by`, `lease_until`) by a
compare-and-set, so only one server sends it; the others skip the conversation until it is
settled, which keeps its messages in order. A result is stored only by the server that still
holds the claim, and a server that stopped mid-send leaves a lease that runs out.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import asdict, replace
from datetime import datetime, timedelta

from sqlalchemy import case, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from actions import records
from actions.records import WhatsAppContact, WhatsAppInbound, WhatsAppOutbound, WhatsAppStatus, utcnow
from channels.whatsapp.render import Outgoing
from channels.whatsapp.webhook import InboundMessage, Notification, Sender

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
STALE_CLAIM = timedelta(minutes=5)  # a turn claimed this long ago belonged to a server that stopped
UNCLAIMED = timedelta(minutes=1)  # a message not yet claimed after this long has no server handling it
SEND_LEASE = timedelta(seconds=30)  # one server sends a message at a time (Graph's timeout is 10 s)
WINDOW_CLOSED = "The visitor's 24-hour WhatsApp window has closed: only an approved template can reach them."
OPTED_OUT = "The visitor sent STOP: nothing more is sent to them on WhatsApp."


_server: tuple[int, str] | None = None


def server_id() -> str:
    """This process's name in `claimed_by`: host, pid and a random part (pids are reused)."""
    global _server
    if _server is None or _server[0] != os.getpid():
        _server = (os.getpid(), f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}")
    return _server[1]


def _insert(db: Session, table, **values):
    """An INSERT that does nothing when a unique key already exists (SQLite and PostgreSQL)."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(**values)


def _to_json(message: InboundMessage) -> str:
    return json.dumps({**asdict(message), "sent_at": message.sent_at.isoformat()}, ensure_ascii=False)


def _from_json(raw: str) -> InboundMessage:
    data = json.loads(raw)
    return InboundMessage(
        **{**data, "sender": Sender(**data["sender"]), "sent_at": datetime.fromisoformat(data["sent_at"])}
    )


def known_conversation(db: Session, sender: Sender) -> str | None:
    """The conversation a returning visitor already has, found by either of their ids.

    Meta started adding business-scoped user ids in 2026: a visitor first seen by phone number
    keeps that conversation (its form, its handoff pause, its STOP) when an id is added.
    """
    ids = [WhatsAppContact.wa_id == sender.wa_id] if sender.wa_id else []
    ids += [WhatsAppContact.user_id == sender.user_id] if sender.user_id else []
    if not ids:
        return None
    return db.scalars(select(WhatsAppContact.conversation_id).where(or_(*ids)).limit(1)).first()


def record_arrivals(notification: Notification) -> list[InboundMessage]:
    """Stores the webhook's statuses and messages; returns the messages not seen before."""
    fresh = []
    with records.session() as db:
        for status in notification.statuses:
            db.execute(_insert(db, WhatsAppStatus, **asdict(status)).on_conflict_do_nothing())
        for message in notification.messages:
            message = replace(
                message, conversation_id=known_conversation(db, message.sender) or message.conversation_id
            )
            row = _insert(
                db,
                WhatsAppInbound,
                message_id=message.message_id,
                conversation_id=message.conversation_id,
                received_at=utcnow(),
                message=_to_json(message),
            )
            inserted = db.execute(row.on_conflict_do_nothing())
            if inserted.rowcount == 1:
                fresh.append(message)
    return fresh


def _claimable(now: datetime):
    return or_(
        WhatsAppInbound.state == "received",
        (WhatsAppInbound.state == "processing") & (WhatsAppInbound.claimed_at < now - STALE_CLAIM),
    )


def claim(message_id: str) -> bool:
    """True for exactly one caller: the one that will run this message's turn.

    Not while an earlier message of the same visitor is still waiting or being answered
    (possibly by another server): turns run in the order the visitor wrote.
    """
    now = utcnow()
    earlier = aliased(WhatsAppInbound)
    with records.session() as db:
        this = db.scalars(select(WhatsAppInbound).where(WhatsAppInbound.message_id == message_id)).first()
        if this is None:
            return False
        waiting = exists().where(
            earlier.conversation_id == this.conversation_id,
            earlier.id < this.id,
            earlier.state.in_(["received", "processing"]),
        )
        claimed = db.execute(
            update(WhatsAppInbound)
            .where(WhatsAppInbound.id == this.id, _claimable(now), ~waiting)
            .values(state="processing", claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        return claimed.rowcount == 1


def release(message_id: str) -> None:
    """Gives a claimed message back (its turn could not start), for the next sweep."""
    with records.session() as db:
        db.execute(
            update(WhatsAppInbound)
            .where(WhatsAppInbound.message_id == message_id, WhatsAppInbound.state == "processing")
            .values(state="received")
        )


def _finish(db: Session, message_id: str) -> None:
    db.execute(
        update(WhatsAppInbound).where(WhatsAppInbound.message_id == message_id).values(state="done", message="{}")
    )


def finish(message_id: str) -> None:
    """Done without a turn (a reaction, an opted-out visitor): its copy here is dropped."""
    with records.session() as db:
        _finish(db, message_id)


def unfinished(unclaimed_for: timedelta = UNCLAIMED) -> list[InboundMessage]:
    """Messages acknowledged to Meta that no server is answering (it stopped before it could)."""
    now = utcnow()
    with records.session() as db:
        rows = db.scalars(
            select(WhatsAppInbound.message)
            .where(_claimable(now), WhatsAppInbound.received_at <= now - unclaimed_for)
            .order_by(WhatsAppInbound.id)
        )
        return [_from_json(raw) for raw in rows]


def note_inbound(message: InboundMessage) -> WhatsAppContact:
    """Keeps the visitor's ids and the time of their latest message (it opens the 24-hour window)."""
    sender, key = message.sender, message.conversation_id
    with records.session() as db:
        statement = _insert(
            db, WhatsAppContact, conversation_id=key, wa_id=sender.wa_id, user_id=sender.user_id,
            last_inbound_at=message.sent_at,
        )  # fmt: skip
        latest = case(
            (WhatsAppContact.last_inbound_at > message.sent_at, WhatsAppContact.last_inbound_at),
            else_=message.sent_at,
        )
        db.execute(
            statement.on_conflict_do_update(
                index_elements=[WhatsAppContact.conversation_id],
                set_={
                    "wa_id": func.coalesce(sender.wa_id, WhatsAppContact.wa_id),
                    "user_id": func.coalesce(sender.user_id, WhatsAppContact.user_id),
                    "last_inbound_at": latest,
                },
            )
        )
        return db.get(WhatsAppContact, key)


def set_opted_out(conversation_id: str, opted_out: bool) -> None:
    """STOP also holds whatever was still waiting to be sent; START lets new messages through."""
    with records.session() as db:
        contact = db.get(WhatsAppContact, conversation_id)
        contact.opted_out_at = utcnow() if opted_out else None
        if opted_out:
            db.execute(
                update(WhatsAppOutbound)
                .where(WhatsAppOutbound.conversation_id == conversation_id, WhatsAppOutbound.state == "pending")
                .values(state="held", error=OPTED_OUT)
            )


def menu_choice(conversation_id: str, text: str) -> str | None:
    """The payload a typed number stands for, when the last turn offered a numbered menu."""
    typed = text.strip().rstrip(".)")
    if not (typed.isascii() and typed.isdecimal()):
        return None
    with records.session() as db:
        contact = db.get(WhatsAppContact, conversation_id)
        payloads = json.loads(contact.numbered_menu or "[]") if contact else []
    number = int(typed)
    return payloads[number - 1] if 0 < number <= len(payloads) else None


def queue(
    conversation_id: str, outgoing: list[Outgoing], *, answering: str | None = None, confirmation: bool = False
) -> None:
    """Stores a turn's messages to send, in order; holds them if they may not be sent.

    `answering` is the message the turn answered: it is marked done in the same transaction,
    so a turn is never run twice for it, nor its replies lost. The numbered menu of the turn
    (if any) replaces the previous one, so a number typed later means an option of the latest
    menu only. A STOP confirmation goes out although the visitor has just opted out.
    """
    now = utcnow()
    with records.session() as db:
        if answering:
            _finish(db, answering)
        contact = db.get(WhatsAppContact, conversation_id)
        menus = [message.numbered for message in outgoing if message.numbered]
        if contact is not None:
            contact.numbered_menu = json.dumps([choice.payload for choice in menus[-1]]) if menus else None
        reason = hold_reason(contact, now, confirmation)
        for message in outgoing:
            body = json.dumps(message.body, ensure_ascii=False)
            state = "held" if reason else "pending"
            db.add(WhatsAppOutbound(conversation_id=conversation_id, body=body, state=state, error=reason))


def window_closed(contact: WhatsAppContact | None, now: datetime) -> bool:
    """Free-form messages reach a visitor only within 24 hours of their own latest message."""
    return contact is None or contact.last_inbound_at is None or now - contact.last_inbound_at > CUSTOMER_SERVICE_WINDOW


def hold_reason(contact: WhatsAppContact | None, now: datetime, confirmation: bool = False) -> str | None:
    if window_closed(contact, now):
        return WINDOW_CLOSED
    if contact.opted_out_at is not None and not confirmation:
        return OPTED_OUT
    return None


def _lease_free(now: datetime):
    return or_(WhatsAppOutbound.lease_until.is_(None), WhatsAppOutbound.lease_until < now)


def conversations_with_due_messages() -> list[str]:
    now = utcnow()
    with records.session() as db:
        return list(
            db.scalars(
                select(WhatsAppOutbound.conversation_id)
                .where(WhatsAppOutbound.state == "pending", WhatsAppOutbound.next_attempt_at <= now, _lease_free(now))
                .distinct()
            )
        )


def next_due(conversation_id: str, server: str | None = None) -> tuple[WhatsAppOutbound, WhatsAppContact] | None:
    """Claims the conversation's oldest unsent message for this server, if it is due and no
    other server holds it; None otherwise.

    Messages go out strictly in order: while the oldest waits for a retry, or is being sent
    by another server, the rest wait too. The claim is a compare-and-set on the row, so of
    several servers (or threads) asking at once exactly one gets it.
    """
    now = utcnow()
    with records.session() as db:
        oldest = db.scalars(
            select(WhatsAppOutbound)
            .where(WhatsAppOutbound.conversation_id == conversation_id, WhatsAppOutbound.state == "pending")
            .order_by(WhatsAppOutbound.id)
            .limit(1)
        ).first()
        if oldest is None or oldest.next_attempt_at > now or (oldest.lease_until and oldest.lease_until >= now):
            return None
        leased = db.execute(
            update(WhatsAppOutbound)
            .where(
                WhatsAppOutbound.id == oldest.id,
                WhatsAppOutbound.state == "pending",
                WhatsAppOutbound.next_attempt_at <= now,
                _lease_free(now),
            )
            .values(
                claimed_by=server or server_id(), lease_until=now + SEND_LEASE, attempts=WhatsAppOutbound.attempts + 1
            )
        )
        if leased.rowcount != 1:
            return None
        db.refresh(oldest)
        return oldest, db.get(WhatsAppContact, conversation_id)


# The marks store a send's result only while this server still holds the message's claim (a
# server whose lease ran out cannot overwrite another's result); each says whether it did.


def mark_sent(outbound_id: int, message_id: str, server: str | None = None) -> bool:
    return _update(
        outbound_id, server, state="sent", sent_at=utcnow(), message_id=message_id, error=None, error_code=None
    )


def mark_retry(outbound_id: int, delay: timedelta, error: str, code: int | None, server: str | None = None) -> bool:
    """Not on a message held meanwhile (STOP): it keeps the reason it is held."""
    values = {"next_attempt_at": utcnow() + delay, "error": error, "error_code": code}
    return _update(outbound_id, server, WhatsAppOutbound.state == "pending", **values)


def mark_failed(outbound_id: int, error: str, code: int | None, server: str | None = None) -> bool:
    return _update(outbound_id, server, state="failed", error=error, error_code=code)


def mark_held(outbound_id: int, reason: str, server: str | None = None) -> bool:
    return _update(outbound_id, server, state="held", error=reason)


def _update(outbound_id: int, server: str | None, *where, **values) -> bool:
    mine = WhatsAppOutbound.id == outbound_id, WhatsAppOutbound.claimed_by == (server or server_id())
    with records.session() as db:
        stored = db.execute(update(WhatsAppOutbound).where(*mine, *where).values(lease_until=None, **values))
        return stored.rowcount == 1


def problems() -> list[dict]:
    """Messages that did not reach a visitor, newest first, with the reason: for staff."""
    with records.session() as db:
        failed_sends = db.scalars(
            select(WhatsAppOutbound)
            .where(WhatsAppOutbound.state.in_(["failed", "held"]))
            .order_by(WhatsAppOutbound.id.desc())
        )
        outbound = [
            {
                "conversation_id": row.conversation_id,
                "created_at": row.created_at.isoformat(),
                "state": row.state,
                "reason": row.error,
                "error_code": row.error_code,
                "body": json.loads(row.body),
            }
            for row in failed_sends
        ]
        failed_statuses = db.execute(
            select(WhatsAppStatus, WhatsAppOutbound.conversation_id)
            .join(WhatsAppOutbound, WhatsAppOutbound.message_id == WhatsAppStatus.message_id, isouter=True)
            .where(WhatsAppStatus.status == "failed")
            .order_by(WhatsAppStatus.id.desc())
        )
        reported = [
            {
                "conversation_id": conversation_id,
                "created_at": status.at.isoformat(),
                "state": "failed after sending",
                "reason": status.error_title,
                "error_code": status.error_code,
                "message_id": status.message_id,
            }
            for status, conversation_id in failed_statuses
        ]
    return outbound + reported
