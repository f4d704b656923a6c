"""The project's own records: bookings, handoffs to a person, and the delivery outbox.

SQLAlchemy over `DATABASE_URL` (a SQLite file by default, PostgreSQL by URL); the schema is
managed by Alembic (migrations/). Writing a booking and its outbox entry happens in one
transaction, so a booking can never exist without its delivery being queued, or the reverse.
The staff console (console/) reads these same tables and adds its own (console/models.py).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'clinic.db'}"
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read out over the phone

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stored as UTC, read back as an aware UTC datetime, on SQLite (no time zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetimes stored in the records must carry a time zone")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Booking(Base):
    __tablename__ = "bookings"

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), unique=True, nullable=False, index=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    kind = Column(String(32), nullable=False)  # laser_consultation | general_consultation
    name = Column(String(120), nullable=False)
    phone = Column(String(20), nullable=False)  # E.164
    email = Column(String(320), nullable=True)
    window_start = Column(UTCDateTime, nullable=False)
    window_end = Column(UTCDateTime, nullable=False)
    preferred_time_text = Column(String(255), nullable=False)  # the visitor's own words
    concern = Column(Text, nullable=False)
    contact_consent = Column(Boolean, nullable=False)
    screening_outcome = Column(String(32), nullable=True)
    screening_reasons = Column(Text, nullable=False, default="[]")  # JSON list of factor ids
    needs_staff = Column(Boolean, nullable=False, default=False)  # the booking system refused it
    status = Column(String(32), nullable=False, default="received")  # received | delivered | stored_only
    handled_at = Column(UTCDateTime, nullable=True)  # staff followed it up (console)
    handled_by = Column(String(64), nullable=True)
    erased_at = Column(UTCDateTime, nullable=True)  # personal details removed (erasure or retention)

    def as_payload(self, consents: list[Consent] = ()) -> dict[str, Any]:
        """The JSON the clinic's booking system receives (docs/booking-webhook.md)."""
        return {
            "reference": self.reference,
            "created_at": self.created_at.isoformat(),
            "kind": self.kind,
            "name": self.name,
            "phone": self.phone,
            "email": self.email,
            "preferred_window": {
                "start": self.window_start.isoformat(),
                "end": self.window_end.isoformat(),
                "as_said": self.preferred_time_text,
            },
            "concern": self.concern,
            "contact_consent": self.contact_consent,
            "screening": {"outcome": self.screening_outcome, "reasons": json.loads(self.screening_reasons)},
            "needs_clinician_review": self.screening_outcome == "clinician_review",
            "conversation": {"id": self.conversation_id, "channel": self.channel},
            "consents": [consent.as_payload() for consent in consents],
        }


class Handoff(Base):
    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), unique=True, nullable=False, index=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    reason = Column(String(32), nullable=False)  # asked | clinician_review | not_understood
    contact = Column(String(320), nullable=False)  # E.164 phone or email
    screening_outcome = Column(String(32), nullable=True)
    status = Column(String(16), nullable=False, default="open")  # open | resumed
    resumed_at = Column(UTCDateTime, nullable=True)
    handled_at = Column(UTCDateTime, nullable=True)  # staff followed it up (console)
    handled_by = Column(String(64), nullable=True)
    erased_at = Column(UTCDateTime, nullable=True)

    def as_payload(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "created_at": self.created_at.isoformat(),
            "reason": self.reason,
            "contact": self.contact,
            "screening_outcome": self.screening_outcome,
            "conversation": {"id": self.conversation_id, "channel": self.channel},
        }


class OutboxMessage(Base):
    """A delivery still to make (or made): one POST or email, retried until it succeeds or the cap."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)  # what workers claim

    id = Column(Integer, primary_key=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    kind = Column(String(32), nullable=False)  # booking | handoff
    idempotency_key = Column(String(64), nullable=False)
    target = Column(String(16), nullable=False)  # webhook | email
    destination = Column(String(500), nullable=False)  # URL or email address
    body = Column(Text, nullable=False)  # the exact JSON sent (and signed)
    # pending | delivered | rejected (4xx) | failed (gave up after DELIVERY_MAX_ATTEMPTS) | cancelled (erased)
    status = Column(String(16), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow)
    last_error = Column(Text, nullable=True)
    delivered_at = Column(UTCDateTime, nullable=True)
    claimed_by = Column(String(64), nullable=True)  # the delivery worker sending it now (or that last did)
    lease_until = Column(UTCDateTime, nullable=True)  # no other worker takes it before then (actions/delivery.py)


class WhatsAppInbound(Base):
    """A message Meta delivered, keyed on its id: the unique key makes a redelivery a no-op.

    The row is written before Meta gets its 200, so a message acknowledged but not yet
    answered (the server stopped) is picked up again. Its text is cleared once the turn has
    run: from then on the transcript holds it.
    """

    __tablename__ = "whatsapp_inbound"

    id = Column(Integer, primary_key=True)
    message_id = Column(String(255), nullable=False, unique=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    received_at = Column(UTCDateTime, nullable=False, default=utcnow)
    message = Column(Text, nullable=False)  # the parsed message as JSON, until the turn has run
    state = Column(String(16), nullable=False, default="received", index=True)  # received | processing | done
    claimed_at = Column(UTCDateTime, nullable=True)


class WhatsAppContact(Base):
    """What the channel knows about a WhatsApp visitor, per conversation."""

    __tablename__ = "whatsapp_contacts"

    conversation_id = Column(String(255), primary_key=True)  # business-scoped user id, else wa_id
    wa_id = Column(String(32), nullable=True, index=True)  # phone number digits, when Meta shares it
    user_id = Column(String(255), nullable=True, index=True)  # both looked up for every message
    last_inbound_at = Column(UTCDateTime, nullable=True)  # opens the 24-hour customer-service window
    opted_out_at = Column(UTCDateTime, nullable=True)  # sent STOP: nothing more is sent
    numbered_menu = Column(Text, nullable=True)  # JSON payloads of the last numbered menu


class WhatsAppOutbound(Base):
    """A message to a WhatsApp visitor: sent in order, retried while Meta is unreachable."""

    __tablename__ = "whatsapp_outbound"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    body = Column(Text, nullable=False)  # the Graph API message, without the recipient
    state = Column(String(16), nullable=False, default="pending", index=True)  # pending | sent | failed | held
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow)
    sent_at = Column(UTCDateTime, nullable=True)
    message_id = Column(String(255), nullable=True, index=True)  # Meta's wamid once accepted
    error_code = Column(Integer, nullable=True)  # Meta's error code for a failure
    error = Column(Text, nullable=True)  # why it failed or is held, for staff
    claimed_by = Column(String(64), nullable=True)  # the Rasa server sending it now (or that last did)
    lease_until = Column(UTCDateTime, nullable=True)  # no other server sends it before then


class WhatsAppStatus(Base):
    """A delivery status Meta reported for one of our messages (sent, delivered, read, failed)."""

    __tablename__ = "whatsapp_statuses"
    __table_args__ = (UniqueConstraint("message_id", "status"),)

    id = Column(Integer, primary_key=True)
    message_id = Column(String(255), nullable=False, index=True)
    status = Column(String(16), nullable=False)
    at = Column(UTCDateTime, nullable=False)
    recipient = Column(String(255), nullable=False)
    error_code = Column(Integer, nullable=True)
    error_title = Column(Text, nullable=True)


class Erasure(Base):
    """A visitor's data was (or is being) erased: the fact the clinic keeps, without the data.

    The conversation id is kept only as a SHA-256 digest (a WhatsApp conversation id is a phone
    number), so staff can confirm an erasure for someone who quotes their id, and nothing more.
    """

    __tablename__ = "erasures"

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), unique=True, nullable=False)
    conversation_digest = Column(String(64), nullable=False, index=True)
    conversation_id = Column(String(255), nullable=True)  # only until the erasure is complete
    channel = Column(String(32), nullable=False)
    requested_at = Column(UTCDateTime, nullable=False, default=utcnow)
    requested_by = Column(String(64), nullable=False)  # visitor | staff:<name> | cli:<user>
    completed_at = Column(UTCDateTime, nullable=True, index=True)
    booking_references = Column(Text, nullable=False, default="[]")  # JSON: what the clinic keeps
    removed = Column(Text, nullable=True)  # JSON counts per store, for the report


class ConsentWording(Base):
    """Exactly what a visitor was asked when they gave or refused consent, by version."""

    __tablename__ = "consent_wordings"

    version = Column(String(20), primary_key=True)  # "sha256:" + the first 12 hex digits of the text
    kind = Column(String(16), nullable=False)  # screening | contact
    text = Column(Text, nullable=False)
    first_used_at = Column(UTCDateTime, nullable=False, default=utcnow)


class Consent(Base):
    """One answer to a consent question: the consent ledger (actions/privacy/consent.py)."""

    __tablename__ = "consents"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    kind = Column(String(16), nullable=False)  # screening (health questions) | contact (about a booking)
    given = Column(Boolean, nullable=False)
    at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    channel = Column(String(32), nullable=False)
    wording_version = Column(String(20), nullable=False)

    def as_payload(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "given": self.given,
            "at": self.at.isoformat(),
            "channel": self.channel,
            "wording_version": self.wording_version,
        }


def database_url() -> str:
    return os.environ.get("DATABASE_URL", DEFAULT_URL)


def engine(url: str | None = None) -> Engine:
    """One engine (and connection pool) per database URL, DATABASE_URL by default."""
    return _engine(url or database_url())


@cache
def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url, future=True, pool_pre_ping=True)


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back if it raises."""
    factory = sessionmaker(engine(url), future=True, expire_on_commit=False)
    with factory.begin() as db:
        yield db


def new_reference(prefix: str) -> str:
    return prefix + "-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def queue(db: Session, kind: str, key: str, target: str, destination: str, payload: dict) -> OutboxMessage:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    message = OutboxMessage(kind=kind, idempotency_key=key, target=target, destination=destination, body=body)
    db.add(message)
    return message


def bookings(db: Session) -> list[Booking]:
    return list(db.scalars(select(Booking).order_by(Booking.created_at.desc())))


def handoffs(db: Session, status: str | None = None) -> list[Handoff]:
    query = select(Handoff).order_by(Handoff.created_at.desc())
    if status:
        query = query.where(Handoff.status == status)
    return list(db.scalars(query))
