"""Retention on both stores: data of known ages, one purge, exactly the old data gone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from actions.clinic_config import Retention
from actions.privacy import retention
from actions.privacy.erasure import ERASED_BODY
from tests.privacy import seed
from tests.privacy.seed import NOW

POLICY = Retention(transcripts_days=180, bookings_days=730)


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path):
    with seed.both_stores(request.param, tmp_path) as stores:
        yield stores


def days_ago(days: float):
    return NOW - timedelta(days=days)


def test_purge_removes_old_conversations_and_keeps_recent_ones(stores: seed.Stores) -> None:
    seed.conversation(stores, "recent", days_ago(179))
    seed.conversation(stores, "old", days_ago(181))
    seed.conversation(stores, "old-whatsapp", days_ago(200), whatsapp=True)
    before = seed.held_about(stores, "recent")

    removed = retention.purge(POLICY, NOW, stores.records, stores.tracker, batch_size=1)

    assert seed.held_about(stores, "old") == {}
    assert seed.held_about(stores, "old-whatsapp") == {}
    assert seed.held_about(stores, "recent") == before, "a conversation within the period is kept whole"
    assert removed["conversations"] == 2 and removed["transcript_events"] == 6
    assert removed["whatsapp_contacts"] == 1 and removed["whatsapp_messages_sent"] == 1


def test_a_conversation_counts_from_its_last_message(stores: seed.Stores) -> None:
    """Started long ago but active last week: nothing of it goes."""
    seed.conversation(stores, "long-running", days_ago(7))
    retention.purge(
        Retention(transcripts_days=1, bookings_days=730), NOW - timedelta(days=6.9), stores.records, stores.tracker
    )
    assert seed.transcript_events(stores, "long-running") == 3


def test_bookings_outlive_their_chat_then_lose_their_personal_details(stores: seed.Stores) -> None:
    kept = seed.conversation(stores, "booked-a-year-ago", days_ago(365), booking_at=days_ago(365))
    expired = seed.conversation(stores, "booked-long-ago", days_ago(800), booking_at=days_ago(800))

    retention.purge(POLICY, NOW, stores.records, stores.tracker)

    assert seed.held_about(stores, "booked-a-year-ago") == {"consents": 1, "bookings": 1, "handoffs": 1}
    still = seed.booking(stores, kept)
    assert still.name == "Maria Lopez" and still.phone == seed.PHONE and still.erased_at is None
    gone = seed.booking(stores, expired)
    assert (gone.name, gone.phone, gone.email, gone.concern, gone.screening_reasons) == ("", "", None, "", "[]")
    assert gone.reference == expired and gone.created_at == days_ago(800) and gone.erased_at is not None
    assert seed.held_about(stores, "booked-long-ago") == {"bookings": 1, "handoffs": 1}, "consents go with the booking"
    [delivered] = seed.outbox(stores, kept)
    assert delivered.body == ERASED_BODY and delivered.status == "delivered", "the receipt stays, the copy goes"


def test_purge_twice_removes_nothing_more(stores: seed.Stores) -> None:
    seed.conversation(stores, "old", days_ago(400), booking_at=days_ago(400))
    assert retention.purge(POLICY, NOW, stores.records, stores.tracker)
    assert retention.purge(POLICY, NOW, stores.records, stores.tracker) == {}
