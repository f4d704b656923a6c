"""Keeps the console's conversation index in step with the tracker store.

Reads the events Rasa stored since the last pass (by events.id, so each event is read once)
and folds them into one summary row per conversation: what the list filters on, what the
dashboard counts, and what the visitor wrote for search. Runs in the console's process, in a
thread, a batch at a time: the Rasa server never waits for it.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import records
from console import tracker
from console.masking import health_spans, hide_health_and_names
from console.models import ConversationSummary, ConversationText, FaqAsk, IndexState
from console.settings import without_password
from console.tracker import TrackerEvent

logger = logging.getLogger(__name__)

BATCH = 5000
# On PostgreSQL each pass also re-reads this many ids below the last one it saw: with several
# Rasa servers, a transaction holding a lower id can commit after one holding a higher id.
# Events already folded in are skipped by their conversation's last_event_id. (SQLite has one
# writer at a time, so its ids commit in order.)
LATE_COMMIT_IDS = 500
FALLBACK_ACTIONS = {
    "action_default_ask_affirmation",  # "Did you mean…"
    "action_not_understood",
    "action_default_fallback",
}
FIRST_QUESTION_CHARS = 500


def is_typed(text: str | None) -> bool:
    """Typed by the visitor, not a button payload such as "/affirm"."""
    return bool(text) and not text.startswith("/")


def moment(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


class ConversationFacts:
    """Folds one conversation's events into its summary (and its search text and FAQ answers)."""

    def __init__(self, summary: ConversationSummary, text: ConversationText, last_faq_key: str | None = None):
        self.summary = summary
        self.text = text
        self.last_faq_key = last_faq_key  # of the latest visitor question, for the answer after it
        self.faq_keys: list[str] = []

    def apply(self, event: TrackerEvent) -> None:
        summary, data = self.summary, event.data
        summary.last_event_id = max(summary.last_event_id or 0, event.id)
        summary.last_at = max(summary.last_at, moment(event.timestamp)) if summary.last_at else moment(event.timestamp)
        kind = data.get("event")
        if kind == "user":
            self._visitor_message(data)
        elif kind == "action":
            name = data.get("name")
            if name == "utter_faq" and self.last_faq_key and self.last_faq_key.startswith("faq/"):
                summary.faq_answers += 1
                self.faq_keys.append(self.last_faq_key.removeprefix("faq/"))
            elif name in FALLBACK_ACTIONS:
                summary.fell_back = True
            elif name == "action_hand_off":
                summary.handed_off = True
        elif kind == "pause":
            summary.handed_off = True
        elif kind == "active_loop" and data.get("name") == "screening_form":
            summary.screening_started = True
        elif kind == "slot":
            self._slot(data.get("name"), data.get("value"))

    def _visitor_message(self, data: dict) -> None:
        summary = self.summary
        parse_data = data.get("parse_data") or {}
        if summary.channel is None and data.get("input_channel"):
            summary.channel = data["input_channel"]
        summary.visitor_messages += 1
        self.last_faq_key = tracker.answer_key(parse_data)
        if (parse_data.get("intent") or {}).get("name") == "nlu_fallback":
            summary.fell_back = True
        text = data.get("text")
        if is_typed(text):
            if summary.first_question is None:  # shown in lists, so stored without health terms
                spans = health_spans(parse_data.get("entities") or [])
                summary.first_question = hide_health_and_names(text, spans)[:FIRST_QUESTION_CHARS]
            self.text.visitor_text = f"{self.text.visitor_text}\n{text}" if self.text.visitor_text else text

    def _slot(self, name: str | None, value: object) -> None:
        if name == "booking_name" and value and self.summary.first_question:
            self.summary.first_question = hide_health_and_names(self.summary.first_question, names=[str(value)])
        elif name == "screening_outcome" and value:
            self.summary.screening_outcome = str(value)
        elif name == "booking_reference" and value:
            self.summary.booked = True


class Indexer:
    """One pass reads up to BATCH events; `catch_up` repeats until none are left."""

    def __init__(self, tracker_url: str, records_url: str | None = None) -> None:
        self.tracker_url = tracker_url
        self.records_url = records_url
        self.state_key = without_password(tracker_url)[:255]
        self.late_commit_ids = 0 if tracker_url.startswith("sqlite") else LATE_COMMIT_IDS
        self._lock = threading.Lock()

    def catch_up(self, max_batches: int = 1000) -> int:
        """Indexes everything stored so far; returns how many new events it read."""
        with self._lock:
            total = 0
            for _ in range(max_batches):
                new, full = self._one_batch()
                total += new
                if not full:
                    break
            return total

    def _one_batch(self) -> tuple[int, bool]:
        """How many events beyond the last pass it read, and whether the batch was full."""
        with records.session(self.records_url) as db:
            state = db.get(IndexState, self.state_key) or IndexState(tracker=self.state_key, last_event_id=0)
            db.add(state)
            seen = state.last_event_id
            events = tracker.events_after(self.tracker_url, max(0, seen - self.late_commit_ids), BATCH)
            if not events:
                return 0, False
            new = sum(1 for event in events if event.id > seen)
            by_conversation: dict[str, list[TrackerEvent]] = defaultdict(list)
            for event in events:
                by_conversation[event.sender_id].append(event)
            known = {
                summary.conversation_id: summary
                for summary in db.scalars(
                    select(ConversationSummary).where(ConversationSummary.conversation_id.in_(list(by_conversation)))
                )
            }
            for conversation_id, its_events in by_conversation.items():
                self._fold(db, conversation_id, its_events, known.get(conversation_id))
            state.last_event_id = max(seen, events[-1].id)
            return new, len(events) == BATCH

    def _fold(
        self, db: Session, conversation_id: str, events: list[TrackerEvent], summary: ConversationSummary | None
    ) -> None:
        if summary is None:
            started = moment(events[0].timestamp)
            summary = ConversationSummary(
                conversation_id=conversation_id,
                started_at=started,
                started_on=started.date(),
                last_at=started,
                visitor_messages=0,
                faq_answers=0,
                screening_started=False,
                booked=False,
                handed_off=False,
                fell_back=False,
                reviewed=False,
                last_event_id=0,
            )
            text = ConversationText(visitor_text="")
            facts = self._facts(summary, text, None, events)
            db.add(summary)
            db.flush()  # gives the summary its id; the text is inserted once, complete
            text.summary_id = summary.id
            db.add(text)
        else:
            events = [event for event in events if event.id > summary.last_event_id]
            if not events:
                return  # re-read below the last id, already folded in
            text = db.get(ConversationText, summary.id)
            facts = self._facts(summary, text, self._question_before(conversation_id, events), events)
        db.add_all(FaqAsk(summary_id=summary.id, faq_key=key) for key in facts.faq_keys)

    @staticmethod
    def _facts(
        summary: ConversationSummary, text: ConversationText, previous_key: str | None, events: list[TrackerEvent]
    ) -> ConversationFacts:
        facts = ConversationFacts(summary, text, previous_key)
        for event in events:
            facts.apply(event)
        return facts

    def _question_before(self, conversation_id: str, events: list[TrackerEvent]) -> str | None:
        """The FAQ key of the question an answer at the start of this batch replies to (rare:
        only when a batch ends between a question and its answer)."""
        for event in events:
            if event.data.get("event") == "user":
                return None
            if event.data.get("event") == "action" and event.data.get("name") == "utter_faq":
                previous = tracker.last_user_event_before(self.tracker_url, conversation_id, event.id)
                return tracker.answer_key(previous.data.get("parse_data") or {}) if previous else None
        return None
