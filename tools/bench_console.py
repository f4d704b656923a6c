"""Benchmark the staff console's conversation list on 100,000 generated conversations.

Why: the list (console/conversations.py) promises a page in milliseconds however many
conversations the tracker store holds, on SQLite as on PostgreSQL. This measures that promise
where it would break: it writes about two million Rasa-shaped events straight into a fresh
tracker `events` table (bulk inserts on SQLite, COPY on PostgreSQL), folds them into the
console's index with the real Indexer, tags 1% of the conversations and marks older ones
reviewed as staff would, then times `page_of(db, Filters.from_args(args), page)` (exactly what
the list page runs) for every filter, some combinations and several kinds of search.

It is a measurement, not a test: it prints p50/p95 per case and database, says which p95 miss
the 300 ms target, writes results/bench-console.json and exits 0 unless something fails.
The data is the same for a given seed and size. The databases are throwaway: SQLite files in a
temporary directory, and on PostgreSQL (127.0.0.1:5432, user postgres, trust authentication)
two fresh databases bench_console_<pid>_tracker/_records, dropped at the end even on error.
PostgreSQL gets ANALYZE after loading (autovacuum would do it in service); SQLite gets none,
as the console never runs it.

Run: `make bench-console`, or
    PYTHONPATH=. .venv/bin/python -m tools.bench_console [--conversations 5000] [--databases sqlite]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import bindparam, create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url

from actions import records
from actions.tracker_store import EVENTS
from console.conversations import Filters, page_of
from console.indexer import Indexer
from console.models import ConversationSummary, ConversationTag

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "results" / "bench-console.json"
POSTGRES_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
TARGET_MS = 300.0
DATABASES = {"sqlite", "postgresql"}
SEED = 20261121
DAYS = 90
END = datetime(2026, 11, 1, tzinfo=timezone.utc)  # fixed, so the date filters match the same rows every run
START = END - timedelta(days=DAYS)
TAG = "follow-up"
TAGGED_SHARE = 0.01
REVIEWED_SHARE = 0.6  # of conversations older than REVIEWED_BEFORE_DAYS
REVIEWED_BEFORE_DAYS = 14
MODEL_ID = "b6c0f1b7e4d54c5e9a0c2d9f0e3a1b27"
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# --- what visitors write ------------------------------------------------------------------------------

FAQ_QUESTIONS = {
    "price": [
        "how much does fractional laser cost",
        "what's the price of one session",
        "price?",
        "how much per session for the face",
        "is there a discount if I book a course of laser sessions",
    ],
    "downtime": [
        "how long is the downtime",
        "when can I go back to work after the laser",
        "how long will my face be red",
        "how long does it take to heal",
    ],
    "pain": [
        "does the laser hurt",
        "is it painful",
        "do you use numbing cream",
        "how much does fractional laser hurt compared to microneedling",
    ],
    "sessions": ["how many sessions will I need", "how often can I have the laser", "is one session enough"],
    "results": ["when will I see results", "how long do the results last", "will it get rid of my acne scars"],
    "side_effects": ["what are the side effects", "can the laser cause pigmentation", "is there a risk of scarring"],
    "suitability": [
        "is fractional laser safe for dark skin",
        "can I have it if I'm pregnant",
        "I'm breastfeeding, is the laser ok",
        "can I have laser if I have rosacea",
    ],
    "preparation": ["how should I prepare for the laser", "should I stop retinol before", "can I wear makeup"],
    "aftercare": [
        "what should I do after the treatment",
        "when can I wear makeup again after the laser",
        "can I go in the sun after",
        "do I need spf after fractional laser",
    ],
    "how_it_works": ["how does fractional laser work", "what is fractional laser", "is it the same as a peel"],
    "conditions_treated": ["can it treat acne scars", "does it help with wrinkles", "does it work on stretch marks"],
    "body_areas": ["can you do my neck and chest", "do you treat hands", "can the laser be used around the eyes"],
    "laser_types": ["is it co2 or erbium", "what laser machine do you use", "ablative or non ablative?"],
    "alternatives": ["is microneedling better", "what about a chemical peel instead", "laser or prp?"],
    "combinations": ["can I combine it with botox", "can I have fillers and laser the same day"],
    "specialist": ["who does the treatment", "is the laser done by a doctor", "is the nurse qualified"],
}
GREETINGS = ["hi", "hello", "hello there", "good morning", "hey", "hi, I have a question"]
GOODBYES = ["thanks, bye", "thank you!", "great thanks", "ok thank you", "cheers"]
FALLBACK_TEXTS = ["asdf", "what about the other thing", "hmm", "my friend said it was weird", "??"]
SCREEN_STARTS = ["am I suitable for fractional laser", "can you check if I'm suitable", "/start_screening"]
SCREEN_ANSWERS = [
    "no",
    "yes",
    "none of those",
    "I have eczema on my cheeks",
    "I'm pregnant, 20 weeks",
    "I had a tan two weeks ago",
    "I get cold sores sometimes",
    "I'm on antibiotics for my skin",
    "I have psoriasis",
    "I use retinol every night",
    "I had fillers last month",
    "I have type 2 diabetes",
]
RARE_ANSWER = "I took isotretinoin last year, is that a problem"  # the rare search term
RARE_ANSWER_CHANCE = 0.001
BOOKING_ANSWERS = [
    "Sarah Jones",
    "07700 900123",
    "sarah.jones@example.com",
    "next tuesday afternoon",
    "acne scars on my cheeks",
    "yes",
]
HANDOFF_TEXTS = ["can I talk to a person", "I want to speak to someone", "human please", "can someone call me"]
FILLERS = [
    "please",
    "thanks",
    "my face",
    "my skin",
    "acne scars",
    "wrinkles",
    "for my wedding",
    "before summer",
    "my sister had it",
    "on my forehead",
    "really",
    "honestly",
]
SYLLABLES = ["ka", "lo", "mi", "ren", "sa", "tor", "vel", "qui", "zan", "fe", "bri", "dul", "nox", "pa", "gri", "sho"]
LONG_TAIL_WORDS = 5000  # names, places and misspellings: each in a few dozen conversations


# --- one conversation, as Rasa 3.6's SQL tracker store writes it -----------------------------------------


class Event(NamedTuple):
    """One row of the tracker's events table, without its id."""

    sender_id: str
    type_name: str
    timestamp: float
    intent_name: str | None
    action_name: str | None
    data: str


class Conversation:
    """Builds one conversation's events on a clock that moves a little with each one."""

    def __init__(self, rng: random.Random, sender_id: str, channel: str, start: float, long_tail: list[str]) -> None:
        self.rng = rng
        self.sender_id = sender_id
        self.channel = channel
        self.clock = start
        self.long_tail = long_tail
        self.events: list[Event] = []

    def add(self, data: dict[str, Any], delay: float) -> None:
        self.clock += delay
        data = {"event": data["event"], "timestamp": self.clock, **data}
        intent = ((data.get("parse_data") or {}).get("intent") or {}).get("name")
        self.events.append(Event(self.sender_id, data["event"], self.clock, intent, data.get("name"), json.dumps(data)))

    def action(self, name: str, policy: str = "RulePolicy") -> None:
        metadata = {"model_id": MODEL_ID, "assistant_id": "clinic"}
        self.add(
            {
                "event": "action",
                "metadata": metadata,
                "name": name,
                "policy": policy,
                "confidence": 1.0,
                "action_text": None,
                "hide_rule_turn": False,
            },
            self.rng.uniform(0.01, 0.3),
        )

    def bot(self, text_: str, utter_action: str) -> None:
        self.add(
            {
                "event": "bot",
                "metadata": {"utter_action": utter_action, "model_id": MODEL_ID, "assistant_id": "clinic"},
                "text": text_,
                "data": {"elements": None, "quick_replies": None, "buttons": None, "attachment": None},
            },
            self.rng.uniform(0.01, 0.2),
        )

    def user(self, text_: str, intent: str, confidence: float | None = None, faq: str | None = None) -> None:
        confidence = confidence if confidence is not None else round(self.rng.uniform(0.8, 0.999), 4)
        message_id = f"{self.rng.getrandbits(128):032x}"
        faq_response = {"intent_response_key": f"faq/{faq or 'how_it_works'}", "confidence": confidence}
        parse_data = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "text": text_,
            "message_id": message_id,
            "metadata": {},
            "intent_ranking": [
                {"name": intent, "confidence": confidence},
                {"name": "nlu_fallback" if intent != "nlu_fallback" else "faq", "confidence": 1 - confidence},
            ],
            "response_selector": {"all_retrieval_intents": ["faq"], "faq": {"response": faq_response}},
        }
        self.add(
            {
                "event": "user",
                "text": text_,
                "parse_data": parse_data,
                "input_channel": self.channel,
                "message_id": message_id,
                "metadata": {},
            },
            self.rng.uniform(4, 90),
        )

    def listen(self) -> None:
        self.action("action_listen")

    def slot(self, name: str, value: object) -> None:
        self.add({"event": "slot", "name": name, "value": value}, self.rng.uniform(0.01, 0.1))

    def active_loop(self, name: str | None) -> None:
        self.add({"event": "active_loop", "name": name}, self.rng.uniform(0.01, 0.1))

    def visitor_text(self, text_: str) -> str:
        """What the visitor typed, sometimes with a common filler or a long-tail word."""
        roll = self.rng.random()
        if roll < 0.25:
            return f"{text_} {self.rng.choice(FILLERS)}"
        if roll < 0.45:
            return f"{text_} {self.rng.choice(self.long_tail)}"
        return text_


def session_start(c: Conversation) -> None:
    c.action("action_session_start")
    c.add({"event": "session_started"}, 0.001)
    c.listen()


def greeting(c: Conversation) -> None:
    c.user(c.rng.choice(GREETINGS), "greet")
    c.action("utter_greet")
    c.bot("Hello! I can answer questions about fractional laser treatment.", "utter_greet")
    c.listen()


def question(c: Conversation) -> None:
    """An FAQ question: answered, or "Did you mean…" first, or not understood at all."""
    roll = c.rng.random()
    if roll < 0.04:
        c.user(c.visitor_text(c.rng.choice(FALLBACK_TEXTS)), "nlu_fallback", round(c.rng.uniform(0.2, 0.5), 4))
        c.action("action_not_understood")
        c.bot("Sorry, I didn't understand that. Could you rephrase?", "utter_default")
        c.listen()
        return
    key = c.rng.choice(list(FAQ_QUESTIONS))
    unsure = roll < 0.12
    confidence = round(c.rng.uniform(0.45, 0.7) if unsure else c.rng.uniform(0.8, 0.999), 4)
    c.user(c.visitor_text(c.rng.choice(FAQ_QUESTIONS[key])), "faq", confidence, key)
    if unsure:
        c.action("action_default_ask_affirmation")
        c.bot(f"Did you mean: {key.replace('_', ' ')}?", "action_default_ask_affirmation")
        c.listen()
        c.user("/affirm", "affirm", 1.0, key)
    c.action("utter_faq")
    c.bot(f"Here is what we can tell you about {key.replace('_', ' ')}.", f"utter_faq/{key}")
    c.listen()


def screening(c: Conversation) -> str | None:
    """The pre-screen; returns its outcome, or None when the visitor stops half-way."""
    c.user(c.rng.choice(SCREEN_STARTS), "start_screening")
    c.action("screening_form", "RulePolicy")
    c.active_loop("screening_form")
    c.slot("requested_slot", "screening_consent")
    c.action("action_ask_screening_consent")
    c.bot("Before we start: may I ask a few health questions?", "action_ask_screening_consent")
    c.listen()
    for _ in range(c.rng.randint(1, 2)):
        answer = RARE_ANSWER if c.rng.random() < RARE_ANSWER_CHANCE else c.rng.choice(SCREEN_ANSWERS)
        c.user(c.visitor_text(answer), "affirm" if answer == "yes" else "deny" if answer == "no" else "faq")
        c.action("screening_form", "RulePolicy")
        c.slot("screen_answer", answer)
        c.action("action_ask_screen_answer")
        c.bot("Thank you. Next question: are you pregnant or breastfeeding?", "action_ask_screen_answer")
        c.listen()
    if c.rng.random() < 0.2:
        c.active_loop(None)
        return None
    outcome = c.rng.choices(["eligible", "clinician_review", "not_suitable"], [0.6, 0.25, 0.15])[0]
    c.slot("screening_outcome", outcome)
    c.active_loop(None)
    c.action("action_screening_result")
    c.bot("Thank you for answering. Here is what that means for you.", "action_screening_result")
    c.listen()
    return outcome


def booking(c: Conversation) -> None:
    c.user("I'd like to book a consultation", "book_consultation")
    c.action("booking_form")
    c.active_loop("booking_form")
    for answer in c.rng.sample(BOOKING_ANSWERS, 3):
        c.action("action_ask_booking_name")
        c.bot("What name should the clinic use?", "action_ask_booking_name")
        c.listen()
        c.user(answer, "faq")
    reference = "BK-" + "".join(c.rng.choice(REFERENCE_ALPHABET) for _ in range(6))
    c.action("action_submit_booking")
    c.slot("booking_reference", reference)
    c.active_loop(None)
    c.bot(f"Your request is booked, reference {reference}.", "action_submit_booking")
    c.listen()


def hand_off(c: Conversation) -> None:
    c.user(c.rng.choice(HANDOFF_TEXTS), "human_handoff")
    c.action("action_hand_off")
    c.bot("I've asked a member of the team to get back to you.", "action_hand_off")
    c.add({"event": "pause"}, 0.01)


def goodbye(c: Conversation) -> None:
    c.user(c.rng.choice(GOODBYES), "goodbye")
    c.action("utter_goodbye")
    c.bot("Goodbye, and thank you for getting in touch.", "utter_goodbye")
    c.listen()


def conversation_events(rng: random.Random, start: float, long_tail: list[str]) -> list[Event]:
    channel = rng.choices(["socketio", "whatsapp", "rest"], [0.6, 0.3, 0.1])[0]
    sender_id = f"447{rng.randrange(10**9):09d}" if channel == "whatsapp" else f"{rng.getrandbits(128):032x}"
    c = Conversation(rng, sender_id, channel, start, long_tail)
    session_start(c)
    if rng.random() < 0.3:
        greeting(c)
    for _ in range(rng.choices([1, 2, 3], [0.55, 0.3, 0.15])[0]):
        question(c)
    outcome = screening(c) if rng.random() < 0.3 else None
    if rng.random() < {"eligible": 0.45, "clinician_review": 0.25}.get(outcome or "", 0.03):
        booking(c)
    if rng.random() < 0.05:
        hand_off(c)
    elif rng.random() < 0.3:
        goodbye(c)
    return c.events


def long_tail_words(rng: random.Random) -> list[str]:
    return ["".join(rng.choices(SYLLABLES, k=rng.randint(3, 4))) for _ in range(LONG_TAIL_WORDS)]


def daily_events(conversations: int, seed: int) -> Iterator[list[Event]]:
    """Each day's events in the order Rasa would have stored them (conversations overlap)."""
    rng = random.Random(seed)
    long_tail = long_tail_words(rng)
    for day in range(DAYS):
        count = conversations // DAYS + (1 if day < conversations % DAYS else 0)
        day_start = (START + timedelta(days=day)).timestamp()
        starts = sorted(rng.uniform(day_start, day_start + 86_400) for _ in range(count))
        events = [event for start in starts for event in conversation_events(rng, start, long_tail)]
        yield sorted(events, key=lambda event: event.timestamp)


# --- writing the tracker store in bulk ------------------------------------------------------------------


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def insert_rows(cursor: Any, rows: list[tuple]) -> None:
    cursor.executemany(
        "INSERT INTO events (id, sender_id, type_name, timestamp, intent_name, action_name, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def copy_rows(cursor: Any, rows: list[tuple]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    buffer.seek(0)
    cursor.copy_expert(
        "COPY events (id, sender_id, type_name, timestamp, intent_name, action_name, data) FROM STDIN (FORMAT csv)",
        buffer,
    )


def write_tracker(url: str, conversations: int, seed: int) -> int:
    """Creates the events table and fills it; returns how many events it wrote."""
    engine = create_engine(url, future=True)
    EVENTS.metadata.create_all(engine)
    write: Callable[[Any, list[tuple]], None] = copy_rows if is_postgresql(url) else insert_rows
    raw = engine.raw_connection()
    written = 0
    try:
        cursor = raw.cursor()
        for events in daily_events(conversations, seed):
            rows = [(written + n, *event) for n, event in enumerate(events, start=1)]
            write(cursor, rows)
            written += len(rows)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return written


# --- the records database: schema, index, and what staff add --------------------------------------------


def migrate(records_url: str) -> None:
    environment = {**os.environ, "DATABASE_URL": records_url, "PYTHONPATH": str(PROJECT_ROOT)}
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=PROJECT_ROOT, env=environment, check=True)


def index(tracker_url: str, records_url: str, conversations: int) -> int:
    """Folds every event into the console's index, as the console does on its first start;
    fails loudly if any generated conversation is missing from the index."""
    indexer, read = Indexer(tracker_url, records_url), 0
    while batch := indexer.catch_up():
        read += batch
    with records.session(records_url) as db:
        indexed = db.scalar(select(func.count()).select_from(ConversationSummary))
    if indexed != conversations:
        raise RuntimeError(f"indexed {indexed:,} conversations of {conversations:,} generated")
    return read


def staff_marks(records_url: str, seed: int) -> int:
    """Tags about 1% of the conversations and marks most older ones reviewed; returns the tagged count."""
    rng = random.Random(seed + 1)
    cutoff = END - timedelta(days=REVIEWED_BEFORE_DAYS)
    summaries = ConversationSummary.__table__
    with records.session(records_url) as db:
        rows = list(db.execute(select(summaries.c.id, summaries.c.conversation_id, summaries.c.last_at)))
        tagged = [{"conversation_id": row.conversation_id, "tag": TAG} for row in rows if rng.random() < TAGGED_SHARE]
        db.execute(insert(ConversationTag.__table__), tagged)
        reviewed = [
            {"summary_id": row.id, "at": row.last_at}
            for row in rows
            if row.last_at < cutoff and rng.random() < REVIEWED_SHARE
        ]
        mark = (
            update(summaries)
            .where(summaries.c.id == bindparam("summary_id"))
            .values(reviewed=True, reviewed_at=bindparam("at"), reviewed_by="bench")
        )
        db.execute(mark, reviewed)
    return len(tagged)


def analyze(records_url: str) -> None:
    with records.engine(records_url).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


# --- measuring ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    args: dict[str, str]
    page: int = 1


def cases() -> list[Case]:
    week = {
        "since": (END - timedelta(days=30)).date().isoformat(),
        "until": (END - timedelta(days=24)).date().isoformat(),
    }
    return [
        Case("no filter, page 1", {}),
        Case("no filter, page 200", {}, 200),
        Case("channel=whatsapp", {"channel": "whatsapp"}),
        Case("outcome=not_suitable", {"outcome": "not_suitable"}),
        Case("outcome=none", {"outcome": "none"}),
        Case("booked=yes", {"booked": "yes"}),
        Case("handed_off=yes", {"handed_off": "yes"}),
        Case("fell_back=yes", {"fell_back": "yes"}),
        Case("reviewed=no", {"reviewed": "no"}),
        Case("since/until, one week", week),
        Case(f"tag={TAG}", {"tag": TAG}),
        Case("whatsapp+booked+week", {"channel": "whatsapp", "booked": "yes", **week}),
        Case("q=isotretinoin (rare)", {"q": "isotretinoin"}),
        Case("q=laser (common)", {"q": "laser"}),
        Case("q=price session", {"q": "price session"}),
        Case('q="back to work"', {"q": '"back to work"'}),
        Case("q=ok (2 chars)", {"q": "ok"}),
        Case("q=pregnant+whatsapp", {"q": "pregnant", "channel": "whatsapp"}),
    ]


def percentile(samples: list[float], percent: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percent - 1]


def time_case(records_url: str, case: Case, warmup: int, repeat: int) -> dict[str, Any]:
    samples: list[float] = []
    matches = 0
    with records.session(records_url) as db:
        for run in range(warmup + repeat):
            began = time.perf_counter()
            page = page_of(db, Filters.from_args(case.args), case.page)
            elapsed = (time.perf_counter() - began) * 1000
            db.expunge_all()
            if run >= warmup:
                samples.append(elapsed)
            matches = page.total
    p95 = percentile(samples, 95)
    return {
        "args": case.args,
        "page": case.page,
        "matches": matches,
        "p50_ms": round(percentile(samples, 50), 2),
        "p95_ms": round(p95, 2),
        "under_target": p95 < TARGET_MS,
        "samples_ms": [round(s, 2) for s in samples],
    }


# --- one database, end to end ---------------------------------------------------------------------------


@contextmanager
def sqlite_databases() -> Iterator[tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="bench-console-") as directory:
        urls = (f"sqlite:///{directory}/tracker.db", f"sqlite:///{directory}/records.db")
        try:
            yield urls
        finally:
            release(*urls)


@contextmanager
def postgresql_databases(server_url: str) -> Iterator[tuple[str, str]]:
    names = [f"bench_console_{os.getpid()}_{role}" for role in ("tracker", "records")]
    server = create_engine(server_url, future=True, isolation_level="AUTOCOMMIT")
    urls = tuple(make_url(server_url).set(database=name).render_as_string(hide_password=False) for name in names)
    try:
        for name in names:
            with server.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield urls
    finally:
        release(*urls)
        for name in names:
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def release(tracker_url: str, records_url: str) -> None:
    """Closes the pooled connections the indexer and the list opened (cached engines)."""
    records.engine(tracker_url).dispose()
    records.engine(records_url).dispose()


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    result = step()
    return result, round(time.perf_counter() - began, 1)


def bench_database(name: str, urls: tuple[str, str], options: argparse.Namespace) -> dict[str, Any]:
    tracker_url, records_url = urls
    print(f"\n== {name}: {options.conversations:,} conversations", flush=True)
    migrate(records_url)
    events, generate_s = timed(lambda: write_tracker(tracker_url, options.conversations, options.seed))
    print(f"generated and wrote {events:,} events in {generate_s} s", flush=True)
    indexed, index_s = timed(lambda: index(tracker_url, records_url, options.conversations))
    print(f"indexed {indexed:,} events in {index_s} s", flush=True)
    tagged = staff_marks(records_url, options.seed)
    if is_postgresql(records_url):
        analyze(records_url)
    load_before = os.getloadavg()[0]
    results = {}
    for case in cases():
        results[case.name] = time_case(records_url, case, options.warmup, options.repeat)
        print(
            f"  {case.name:<28} p50 {results[case.name]['p50_ms']:8.1f} ms  p95 {results[case.name]['p95_ms']:8.1f} ms"
        )
    load = (round(load_before, 2), round(os.getloadavg()[0], 2))
    print(f"load average (1 min) before and after measuring: {load[0]} and {load[1]} on {os.cpu_count()} CPUs")
    return {
        "events": events,
        "generate_s": generate_s,
        "index_s": index_s,
        "tagged": tagged,
        "load_average": load,
        "cases": results,
    }


# --- report ---------------------------------------------------------------------------------------------


def table(databases: dict[str, dict[str, Any]]) -> str:
    names = list(databases)
    header = f"{'case':<28}" + "".join(f"{name + ' matches':>19}{'p50 ms':>9}{'p95 ms':>9}  " for name in names)
    lines = [header, "-" * len(header)]
    for case in cases():
        line = f"{case.name:<28}"
        for name in names:
            result = databases[name]["cases"][case.name]
            flag = "  " if result["under_target"] else " !"
            line += f"{result['matches']:>19,}{result['p50_ms']:>9.1f}{result['p95_ms']:>9.1f}{flag}"
        lines.append(line)
    return "\n".join(lines)


def verdict(databases: dict[str, dict[str, Any]]) -> str:
    misses = [
        f"{name}: {case} (p95 {result['p95_ms']:.0f} ms)"
        for name, outcome in databases.items()
        for case, result in outcome["cases"].items()
        if not result["under_target"]
    ]
    if not misses:
        return f"Every p95 is under the {TARGET_MS:.0f} ms target."
    return f"p95 at or over the {TARGET_MS:.0f} ms target (marked !):\n  " + "\n  ".join(misses)


def database_names(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names or set(names) - DATABASES:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(sorted(DATABASES))}")
    return names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--databases", type=database_names, default="sqlite,postgresql", help="sqlite, postgresql")
    parser.add_argument("--postgres", default=POSTGRES_SERVER, help="a URL of the server's maintenance database")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    databases: dict[str, dict[str, Any]] = {}
    for name in options.databases:
        opened = postgresql_databases(options.postgres) if name == "postgresql" else sqlite_databases()
        with opened as urls:
            databases[name] = bench_database(name, urls, options)
    print(f"\nThe conversation list, {options.conversations:,} conversations, {options.repeat} runs per case:")
    print(table(databases))
    for name, outcome in databases.items():
        took = f"generated and written in {outcome['generate_s']} s, indexed in {outcome['index_s']} s"
        load = f"load average {outcome['load_average'][0]} → {outcome['load_average'][1]} while measuring"
        print(f"{name}: {outcome['events']:,} events {took}; {load}")
    print(verdict(databases))
    options.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "conversations": options.conversations,
        "seed": options.seed,
        "repeat": options.repeat,
        "warmup": options.warmup,
        "target_ms": TARGET_MS,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "databases": databases,
    }
    options.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
