"""The console on each database a clinic may run: SQLite by default, PostgreSQL by URL.

Real conversations (through the running assistant) are copied, event by event, into a
tracker store of each kind; the indexer and the list's queries then run exactly as in the
console, and the audit log refuses changes on both."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, insert, select, update
from sqlalchemy.exc import DatabaseError

from actions import records
from actions.tracker_store import EVENTS
from console import audit
from console.conversations import Filters, page_of
from console.indexer import Indexer
from console.models import AuditEntry, ConversationSummary, ConversationText
from tests.databases import fresh_database
from tests.support import RunningAssistant

pytestmark = pytest.mark.servers


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty records database (migrated) that also holds a tracker store's events table."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


def copy_events(assistant: RunningAssistant, url: str) -> None:
    source = create_engine(f"sqlite:///{assistant.tracker_db}")
    with source.connect() as reading:
        rows = [dict(row._mapping) for row in reading.execute(select(EVENTS).order_by(EVENTS.c.id))]
    target = create_engine(url)
    EVENTS.metadata.create_all(target)
    with target.begin() as writing:
        writing.execute(insert(EVENTS), rows)
    target.dispose()


def ids(url: str, **args: str) -> set[str]:
    with records.session(url) as db:
        return {row.conversation_id for row in page_of(db, Filters.from_args(args), 1).rows}


def test_conversations_are_indexed_and_found_alike_on_sqlite_and_postgresql(
    assistant: RunningAssistant, database: str
) -> None:
    stamp = time.time_ns()
    asked, unsuitable, person = f"db-asked-{stamp}", f"db-unsuitable-{stamp}", f"db-person-{stamp}"
    assistant.say(asked, "what does 100% of the price cover_for a full face? ask_me")
    assistant.say(unsuitable, "I'm pregnant, could I have the laser?")
    assistant.say(person, "could I talk to someone from the clinic")
    assistant.say(person, "someone@example.com")
    copy_events(assistant, database)

    indexer = Indexer(database, database)
    read = indexer.catch_up()
    assert read > 0 and indexer.catch_up() == 0  # each event is read once

    assert {asked, unsuitable, person} <= ids(database, channel="rest")
    assert person in ids(database, handed_off="yes") and asked not in ids(database, handed_off="yes")
    assert ids(database, outcome="not_suitable") >= {unsuitable} and asked not in ids(database, outcome="not_suitable")
    # Search matches what was typed, whatever its case; LIKE's wildcards are taken literally.
    found = ids(database, q="100% OF THE PRICE")
    assert asked in found and not {unsuitable, person} & found
    assert asked in ids(database, q="cover_for") and asked not in ids(database, q="cover-for")
    assert asked not in ids(database, q='"cover for"')  # a quoted phrase is matched as written
    found = ids(database, q='"could I talk" clinic')
    assert person in found and asked not in found
    assert ids(database, q="pr") >= {unsuitable, asked}  # shorter than a trigram still works


def test_a_late_commit_is_indexed_and_nothing_is_counted_twice(assistant: RunningAssistant, database: str) -> None:
    """Several Rasa servers on PostgreSQL: an event with a lower id can commit after a higher
    one was indexed. And a new index state (the tracker's URL spelt differently) re-reads
    every event without counting any twice."""
    stamp = time.time_ns()
    early, late = f"db-early-{stamp}", f"db-late-{stamp}"
    assistant.say(early, "how much is a full face session?")
    assistant.say(late, "how much is a full face session?")
    copy_events(assistant, database)
    engine = create_engine(database)
    with engine.begin() as connection:  # the late conversation's events have not committed yet
        held = [dict(r._mapping) for r in connection.execute(select(EVENTS).where(EVENTS.c.sender_id == late))]
        connection.execute(delete(EVENTS).where(EVENTS.c.sender_id == late))
    Indexer(database, database).catch_up()
    assert early in ids(database, q="full face") and late not in ids(database, q="full face")
    with engine.begin() as connection:  # ... now they have, with the ids they were given earlier
        connection.execute(insert(EVENTS), held)
    engine.dispose()
    Indexer(database, database).catch_up()
    if database.startswith("postgresql"):  # (SQLite has one writer: its ids commit in order)
        assert late in ids(database, q="full face")

    def counts() -> tuple:
        with records.session(database) as db:
            row = db.scalars(select(ConversationSummary).where(ConversationSummary.conversation_id == early)).one()
            return row.visitor_messages, row.faq_answers, db.get(ConversationText, row.id).visitor_text

    before = counts()
    respelt = database.replace("127.0.0.1", "localhost") if "127.0.0.1" in database else database + "?mode=rw"
    assert Indexer(respelt, database).catch_up() > 0  # a new state: everything read again ...
    assert counts() == before == (1, 1, "how much is a full face session?")  # ... nothing counted twice


def test_the_audit_log_refuses_changes_on_both_databases(database: str) -> None:
    audit.write("test-admin", "login", "test-admin", url=database)
    for change in (update(AuditEntry).values(actor="someone else"), delete(AuditEntry)):
        with pytest.raises(DatabaseError, match="append-only"), records.session(database) as db:
            db.execute(change)
    entries, total = audit.entries(url=database)
    assert total == 1 and entries[0].actor == "test-admin"
