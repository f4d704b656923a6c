"""One conversation as staff read it: the chat, and beside each visitor message what the
assistant made of it (intent or FAQ answer with confidence, entities, screening findings as
they accumulated, and the booking or handoff it led to).

Built from the tracker store's events; masked unless the reader revealed the details.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from console.indexer import moment
from console.masking import HEALTH_ENTITIES, HIDDEN, health_spans, mask_text
from console.tracker import TrackerEvent, answer_confidence, answer_key

SCREENING_FORM = "screening_form"


@dataclass
class Line:
    """A chat bubble, with the assistant's reading of it for visitor messages."""

    event_id: int
    at: datetime
    who: str  # visitor | assistant | staff
    text: str
    author: str | None = None  # the staff member, for staff replies
    buttons: list[str] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    answer_key: str | None = None  # for a retrieval intent: "faq/price", "out_of_scope/medical"
    answer_confidence: float | None = None
    entities: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    led_to: list[str] = field(default_factory=list)
    screen_answer: bool = False  # answered a pre-screen question (masked whole)
    relabelled_as: str | None = None

    @property
    def reading(self) -> str | None:
        """What the assistant understood, as staff relabel it: "faq/price" or an intent."""
        return self.answer_key or self.intent


@dataclass(frozen=True)
class Masking:
    region: str
    names: tuple[str, ...]
    words: tuple[str, ...]  # the visitor's own words for health findings ("melanoma")

    def visitor(self, text: str, spans: Iterable[tuple[int, int]]) -> str:
        return mask_text(text, self.region, self.names + self.words, spans)

    def assistant(self, text: str) -> str:
        return mask_text(text, self.region, self.names + self.words)


def details_to_mask(events: list[TrackerEvent], region: str) -> Masking:
    """Names and health words this conversation holds in its slots."""
    names, words = set(), set()
    for event in events:
        data = event.data
        if data.get("event") != "slot" or not data.get("value"):
            continue
        if data.get("name") == "booking_name":
            names.add(str(data["value"]))
        elif data.get("name") == "screening_findings":
            words.update(str(w) for w in (data["value"].get("noted") or {}).values())
    return Masking(region, tuple(sorted(names)), tuple(sorted(words)))


def _finding_changes(before: dict, after: dict, reveal: bool) -> list[str]:
    return [
        f"{factor.replace('_', ' ')}: {status if reveal else HIDDEN}"
        for factor, status in sorted(after.items())
        if before.get(factor) != status
    ]


def health_turns(events: list[TrackerEvent]) -> set[int]:
    """The turns (counted by visitor messages) in which the assistant talked about the visitor's
    health: the pre-screen was running, or it learnt a finding or reached an outcome. What it
    said in them ("… isn't done during pregnancy") is as private as what the visitor said."""
    turns, turn, in_screen, findings = set(), 0, False, {}
    for event in events:
        data = event.data
        kind, name = data.get("event"), data.get("name")
        if kind == "user":
            turn += 1
        elif kind == "active_loop":
            in_screen = name == SCREENING_FORM
        elif kind == "slot" and name == "screening_findings":
            after = (data.get("value") or {}).get("factors") or {}
            if after != findings:
                turns.add(turn)
            findings = after
        elif kind == "slot" and name == "screening_outcome" and data.get("value"):
            turns.add(turn)
        if in_screen:
            turns.add(turn)
    return turns


def lines_of(events: list[TrackerEvent], region: str, reveal: bool, relabels: dict[int, str]) -> list[Line]:
    masking = details_to_mask(events, region)
    private_turns = set() if reveal else health_turns(events)
    lines: list[Line] = []
    last_visitor: Line | None = None
    active_loop = None
    findings: dict = {}
    turn = 0
    for event in events:
        data = event.data
        kind = data.get("event")
        if kind == "user":
            turn += 1
            last_visitor = _visitor_line(event, masking, reveal, in_screen=active_loop == SCREENING_FORM)
            last_visitor.relabelled_as = relabels.get(event.id)
            lines.append(last_visitor)
        elif kind == "bot" and data.get("text"):
            line = _bot_line(event, masking, reveal)
            if turn in private_turns and line.who == "assistant":
                line.text, line.buttons = f"{HIDDEN} (about the visitor's health)", []
            lines.append(line)
        elif kind == "active_loop":
            active_loop = data.get("name")
        elif kind == "slot" and last_visitor is not None:
            name, value = data.get("name"), data.get("value")
            if name == "screening_findings":
                after = (value or {}).get("factors") or {}
                last_visitor.findings += _finding_changes(findings, after, reveal)
                findings = after
            elif name == "screening_outcome" and value:
                last_visitor.led_to.append(f"pre-screen outcome: {str(value).replace('_', ' ')}")
            elif name == "booking_reference" and value:
                last_visitor.led_to.append(f"booking {value}")
        elif kind == "pause" and last_visitor is not None:
            last_visitor.led_to.append("handed to a person")
        elif kind == "resume" and last_visitor is not None:
            last_visitor.led_to.append("assistant resumed")
    return lines


def _visitor_line(event: TrackerEvent, masking: Masking, reveal: bool, in_screen: bool) -> Line:
    data = event.data
    parse_data = data.get("parse_data") or {}
    intent = parse_data.get("intent") or {}
    entities = parse_data.get("entities") or []
    text = data.get("text") or ""
    if not reveal:
        text = HIDDEN if in_screen and not text.startswith("/") else masking.visitor(text, health_spans(entities))
    return Line(
        event_id=event.id,
        at=moment(event.timestamp),
        who="visitor",
        text=text,
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        answer_key=answer_key(parse_data),
        answer_confidence=answer_confidence(parse_data),
        entities=[_entity(e, reveal) for e in entities],
        screen_answer=in_screen,
    )


def _entity(entity: dict, reveal: bool) -> str:
    value = entity.get("value")
    if entity.get("entity") in HEALTH_ENTITIES and not reveal:
        value = HIDDEN
    notes = [word for word in ("negated", "hedged", "asked", "ended") if entity.get(word)]
    who = entity.get("who")
    if who and who != "self":
        notes.append(f"about {who}")
    return f"{entity.get('entity')}: {value}" + (f" ({', '.join(notes)})" if notes else "")


def _bot_line(event: TrackerEvent, masking: Masking, reveal: bool) -> Line:
    data = event.data
    staff = (data.get("metadata") or {}).get("staff_reply") or {}
    text = data["text"] if reveal else masking.assistant(data["text"])
    buttons = [b.get("title", "") for b in ((data.get("data") or {}).get("buttons") or [])]
    return Line(
        event_id=event.id,
        at=moment(event.timestamp),
        who="staff" if staff else "assistant",
        text=text,
        author=staff.get("author"),
        buttons=buttons,
    )
