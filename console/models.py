"""The console's own tables, in the records database next to bookings and handoffs.

The conversation tables are an index of the tracker store, kept by console/indexer.py: the
tracker's events table holds one row per event and cannot answer "newest conversations that
booked, containing 'pregnant'" quickly, so each conversation gets one summary row (with the
indexes the list's filters need) and one row of everything the visitor wrote (searched with
FTS5 on SQLite and a trigram index on PostgreSQL; see migrations 0003).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint

from actions.records import Base, UTCDateTime, utcnow

ROLES = ("staff", "clinician", "admin")


class StaffAccount(Base):
    __tablename__ = "staff_accounts"

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    role = Column(String(16), nullable=False)  # staff | clinician | admin
    password_hash = Column(String(255), nullable=False)  # Argon2id, with its parameters
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)  # since the last success
    locked_until = Column(UTCDateTime, nullable=True)
    # In every session cookie; raised by logout, a new password or disabling, which ends
    # every session issued before (the cookie itself cannot be taken back).
    session_epoch = Column(Integer, nullable=False, default=0)


class AuditEntry(Base):
    """Who did what, when. Append-only: database triggers refuse updates and deletes."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    actor = Column(String(64), nullable=False)  # account name, or the name tried at a failed login
    action = Column(String(32), nullable=False)  # login | login_failed | reveal | export | reply | ...
    target = Column(String(255), nullable=True)  # a conversation id, an account name, ...
    detail = Column(Text, nullable=True)


class ConversationSummary(Base):
    __tablename__ = "conversation_summaries"
    __table_args__ = (
        Index("ix_summaries_channel_last", "channel", "last_at"),
        Index("ix_summaries_outcome_last", "screening_outcome", "last_at"),
        Index("ix_summaries_booked_last", "booked", "last_at"),
        Index("ix_summaries_handed_off_last", "handed_off", "last_at"),
        Index("ix_summaries_fell_back_last", "fell_back", "last_at"),
        Index("ix_summaries_reviewed_last", "reviewed", "last_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, unique=True)
    channel = Column(String(32), nullable=True)  # socketio (web) | whatsapp | rest
    started_at = Column(UTCDateTime, nullable=False, index=True)
    started_on = Column(Date, nullable=False, index=True)  # UTC day, for the dashboard's per-day charts
    last_at = Column(UTCDateTime, nullable=False, index=True)
    first_question = Column(String(500), nullable=True)
    visitor_messages = Column(Integer, nullable=False, default=0)
    faq_answers = Column(Integer, nullable=False, default=0)
    screening_started = Column(Boolean, nullable=False, default=False)
    screening_outcome = Column(String(32), nullable=True)  # eligible | clinician_review | not_suitable
    booked = Column(Boolean, nullable=False, default=False)
    handed_off = Column(Boolean, nullable=False, default=False)
    fell_back = Column(Boolean, nullable=False, default=False)  # "Did you mean…" or not understood
    reviewed = Column(Boolean, nullable=False, default=False)
    reviewed_at = Column(UTCDateTime, nullable=True)
    reviewed_by = Column(String(64), nullable=True)
    last_event_id = Column(Integer, nullable=False, default=0)  # the newest event folded in


class ConversationText(Base):
    """Everything the visitor wrote in one conversation, one message per line, for search."""

    __tablename__ = "conversation_texts"

    summary_id = Column(Integer, ForeignKey("conversation_summaries.id", ondelete="CASCADE"), primary_key=True)
    visitor_text = Column(Text, nullable=False, default="")


class FaqAsk(Base):
    """One FAQ answer given: the dashboard counts them by key."""

    __tablename__ = "faq_asks"

    id = Column(Integer, primary_key=True)
    summary_id = Column(
        Integer, ForeignKey("conversation_summaries.id", ondelete="CASCADE"), nullable=False, index=True
    )
    faq_key = Column(String(64), nullable=False, index=True)


class ConversationTag(Base):
    __tablename__ = "conversation_tags"

    conversation_id = Column(String(255), primary_key=True)
    tag = Column(String(40), primary_key=True, index=True)


class ConversationNote(Base):
    __tablename__ = "conversation_notes"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    author = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)


class Relabel(Base):
    """A visitor message the assistant misread, with what it should have been."""

    __tablename__ = "relabels"
    __table_args__ = (UniqueConstraint("conversation_id", "event_id"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    event_id = Column(Integer, nullable=False)  # the tracker store's events.id
    text = Column(Text, nullable=False)
    predicted = Column(String(100), nullable=True)  # intent, or faq/<key>
    confidence = Column(Float, nullable=True)
    corrected = Column(String(100), nullable=False)
    author = Column(String(64), nullable=False)
    at = Column(UTCDateTime, nullable=False, default=utcnow)


class IndexState(Base):
    """How far the indexer has read the tracker store (its events.id)."""

    __tablename__ = "console_index_state"

    tracker = Column(String(255), primary_key=True)  # the tracker database URL, without password
    last_event_id = Column(Integer, nullable=False, default=0)


SEARCH_OBJECTS = ("conversation_texts_fts", "ix_conversation_texts_trigram", "audit_log_append_only")


def managed_by_metadata(obj, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """For Alembic: the search index (FTS5 table and its shadow tables, or the trigram index)
    is created by hand in migration 0003, per dialect, and is not in the metadata."""
    return not (name or "").startswith(SEARCH_OBJECTS)
