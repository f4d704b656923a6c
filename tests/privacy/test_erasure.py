"""Erasure on both stores: one conversation's data goes, the booking reference and the fact stay."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from actions import records
from actions.privacy import access, erasure
from actions.privacy.erasure import ERASED_BODY
from tests.privacy import seed
from tests.privacy.seed import NOW

HOOK = "http://127.0.0.1:9/booking-system"


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BOOKING_WEBHOOK_URL", HOOK)
    with seed.both_stores(request.param, tmp_path) as stores:
        yield stores


def erase(
    stores: seed.Stores, conversation_id: str, requested_by: str = "visitor", channel: str = "socketio"
) -> erasure.ErasureReport:
    report = erasure.request(conversation_id, channel, requested_by, stores.records)
    return erasure.complete(report.reference, stores.records, stores.tracker)


def test_erasure_removes_the_conversation_everywhere_and_nothing_else(stores: seed.Stores) -> None:
    reference = seed.conversation(stores, "maria", NOW, booking_at=NOW)
    seed.conversation(stores, "someone-else", NOW, booking_at=NOW)
    others = seed.held_about(stores, "someone-else")

    report = erase(stores, "maria")

    assert seed.held_about(stores, "maria") == {}
    assert seed.held_about(stores, "someone-else") == others
    assert report.booking_references == [reference]
    kept = seed.booking(stores, reference)
    assert (kept.name, kept.phone, kept.email, kept.concern, kept.preferred_time_text) == ("", "", None, "", "")
    assert kept.screening_outcome is None and kept.erased_at is not None
    assert kept.conversation_id == f"erased:{report.reference}"
    [copy] = seed.outbox(stores, reference)
    assert copy.body == ERASED_BODY, "the delivered copy's body goes too"


def test_the_booking_system_is_told_which_bookings_to_erase(stores: seed.Stores) -> None:
    reference = seed.conversation(stores, "maria", NOW, booking_at=NOW)
    report = erase(stores, "maria")
    [event] = seed.outbox(stores, report.reference)
    payload = json.loads(event.body)
    assert event.destination == HOOK and event.kind == "erasure" and event.status == "pending"
    assert payload == {
        "event": "erasure",
        "reference": report.reference,
        "requested_at": payload["requested_at"],
        "requested_by": "visitor",
        "bookings": [reference],
    }
    assert "Maria" not in event.body and seed.PHONE not in event.body


def test_without_a_booking_there_is_nothing_to_tell_the_booking_system(stores: seed.Stores) -> None:
    seed.conversation(stores, "just-asking", NOW)
    report = erase(stores, "just-asking")
    assert seed.held_about(stores, "just-asking") == {}
    assert report.booking_references == [] and seed.outbox(stores, report.reference) == []


def test_an_undelivered_booking_is_never_sent_after_erasure(stores: seed.Stores) -> None:
    reference = seed.conversation(stores, "maria", NOW, booking_at=NOW)
    with records.session(stores.records) as db:
        db.execute(
            records.OutboxMessage.__table__.update()
            .where(records.OutboxMessage.idempotency_key == reference)
            .values(status="pending")
        )
    erase(stores, "maria")
    [copy] = seed.outbox(stores, reference)
    assert copy.status == "cancelled" and copy.body == ERASED_BODY


def test_the_fact_of_erasure_is_kept_without_the_conversation_id(stores: seed.Stores) -> None:
    seed.conversation(stores, "+447400123456", NOW)
    report = erase(stores, "+447400123456", requested_by="staff:anna")
    with records.session(stores.records) as db:
        [kept] = db.scalars(select(records.Erasure))
        assert kept.conversation_id is None and "447400123456" not in kept.conversation_digest
        assert kept.completed_at is not None and kept.requested_by == "staff:anna"
    [found] = erasure.find("+447400123456", stores.records)
    assert found["reference"] == report.reference, "staff can confirm it for someone who quotes their id"


def test_completing_again_changes_nothing(stores: seed.Stores) -> None:
    seed.conversation(stores, "maria", NOW, booking_at=NOW)
    first = erase(stores, "maria")
    again = erasure.complete(first.reference, stores.records, stores.tracker)
    assert again == first and len(seed.outbox(stores, first.reference)) == 1, "one erasure event"


def test_a_second_request_before_completion_is_the_same_erasure(stores: seed.Stores) -> None:
    seed.conversation(stores, "maria", NOW)
    first = erasure.request("maria", "socketio", "visitor", stores.records)
    assert erasure.request("maria", "socketio", "visitor", stores.records).reference == first.reference
    assert erasure.unfinished(stores.records) == [], "the Rasa server is completing it"
    a_minute_later = records.utcnow() + timedelta(minutes=1)
    assert erasure.unfinished(stores.records, a_minute_later) == [first.reference], "the worker finishes it"


def test_on_whatsapp_the_last_reply_is_sent_before_the_contact_is_forgotten(stores: seed.Stores) -> None:
    seed.conversation(stores, "447400123456", NOW, whatsapp=True, pending_whatsapp_reply=True)
    report = erase(stores, "447400123456", channel="whatsapp")
    assert seed.held_about(stores, "447400123456") == {
        "whatsapp_contacts": 1,
        "whatsapp_outbound": 2,
        "whatsapp_statuses": 1,
    }, "the transcript and everything else went at once"
    later = records.utcnow() + timedelta(seconds=11)
    assert erasure.unfinished(stores.records, later) == [report.reference]

    erasure.complete(report.reference, stores.records, stores.tracker)
    assert seed.held_about(stores, "447400123456") == {"whatsapp_contacts": 1, "whatsapp_outbound": 1}, "still to send"
    with records.session(stores.records) as db:
        db.execute(records.WhatsAppOutbound.__table__.update().values(state="sent", message_id="wamid.bye"))
    erasure.complete(report.reference, stores.records, stores.tracker)
    assert seed.held_about(stores, "447400123456") == {}
    assert erasure.unfinished(stores.records, later) == []


def test_access_export_holds_everything_then_nothing_after_erasure(stores: seed.Stores) -> None:
    reference = seed.conversation(stores, "447400123456", NOW, booking_at=NOW, whatsapp=True)
    held = access.export_visitor("447400123456", stores.records, stores.tracker)
    assert [e["text"] for e in held["transcript"]][1] == "I'm pregnant, can I have laser?"
    assert held["bookings"][0]["reference"] == reference and held["bookings"][0]["phone"] == seed.PHONE
    assert held["consents"][0]["wording"] == "May I ask about your health?"
    assert held["whatsapp"]["wa_id"] == "447400123456" and held["staff_notes"][0]["text"] == "called back"
    assert held["erasures"] == []
    json.dumps(held)  # all of it is JSON

    report = erase(stores, "447400123456", channel="whatsapp")
    erasure.complete(report.reference, stores.records, stores.tracker)  # the worker, once the reply has gone
    after = access.export_visitor("447400123456", stores.records, stores.tracker)
    assert after["transcript"] == after["bookings"] == after["consents"] == after["staff_notes"] == []
    assert after["whatsapp"] is None and after["erasures"][0]["reference"] == report.reference
