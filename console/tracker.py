"""Reading Rasa's SQL tracker store: its `events` table, as Rasa 3.6 defines it.

The console only reads it; Rasa owns and writes it. Each row is one event, its JSON in
`data` exactly as Rasa serialises it ({"event": "user", "text": ..., "parse_data": ...}).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from actions import records
from actions.tracker_store import EVENTS
from nlp.parse import full_label, selector_ranking


@dataclass(frozen=True)
class TrackerEvent:
    id: int
    sender_id: str
    type_name: str
    timestamp: float
    data: dict[str, Any]


def _event(row) -> TrackerEvent:
    return TrackerEvent(row.id, row.sender_id, row.type_name, row.timestamp or 0.0, json.loads(row.data or "{}"))


def events_after(url: str, last_id: int, limit: int) -> list[TrackerEvent]:
    """The next events of every conversation, in the order Rasa stored them."""
    query = select(EVENTS).where(EVENTS.c.id > last_id).order_by(EVENTS.c.id).limit(limit)
    with records.engine(url).connect() as connection:
        return [_event(row) for row in connection.execute(query)]


def conversation_events(url: str, conversation_id: str) -> list[TrackerEvent]:
    query = select(EVENTS).where(EVENTS.c.sender_id == conversation_id).order_by(EVENTS.c.id)
    with records.engine(url).connect() as connection:
        return [_event(row) for row in connection.execute(query)]


def last_user_event_before(url: str, conversation_id: str, event_id: int) -> TrackerEvent | None:
    query = (
        select(EVENTS)
        .where(EVENTS.c.sender_id == conversation_id, EVENTS.c.type_name == "user", EVENTS.c.id < event_id)
        .order_by(EVENTS.c.id.desc())
        .limit(1)
    )
    with records.engine(url).connect() as connection:
        row = connection.execute(query).first()
    return _event(row) if row else None


def answer_key(parse_data: dict[str, Any]) -> str | None:
    """For a retrieval intent, the answer the response selector chose ("faq/price")."""
    label = full_label(parse_data)
    return label if "/" in label else None


def answer_confidence(parse_data: dict[str, Any]) -> float | None:
    ranking = selector_ranking(parse_data, (parse_data.get("intent") or {}).get("name"))
    return ranking[0].get("confidence") if ranking else None
