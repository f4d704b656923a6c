"""Booking requests and handoffs end to end: real servers, real database, real webhook receivers."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

import jsonschema
import pytest

from examples.webhook_receiver import Verifier
from tests.receiver import WebhookReceiver
from tests.support import WEBHOOK_SECRET, RunningAssistant

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "booking-payload.schema.json").read_text())
REFERENCE = re.compile(r"\bBK-[A-Z2-9]{6}\b")
PHONE = "07400 123456"


def book(
    assistant: RunningAssistant, visitor: str, *, when: str = "next tuesday afternoon", concern: str = "acne scars"
):
    """A visitor books with valid details; returns the replies to the final "yes"."""
    assert "What's your name" in assistant.texts(visitor, "I'd like to book a consultation")
    assert "phone number" in assistant.texts(visitor, "Maria Lopez")
    assert "email" in assistant.texts(visitor, PHONE)
    assert "When would suit you" in assistant.texts(visitor, "maria@example.com")
    assert "I've noted Tuesday" in assistant.texts(visitor, when)
    assert "agree that the clinic contacts you" in assistant.texts(visitor, concern)
    check = assistant.say(visitor, "/affirm")
    assert "Please check your request" in check[-1]["text"] and "+447400123456" in check[-1]["text"]
    assert all(len(bubble["text"]) <= 600 for bubble in check), "the read-back fits a chat bubble"
    return assistant.texts(visitor, "/affirm")


def valid_signature(received) -> bool:
    """Checked as the example receiver in the README checks it (signature, timestamp, no replay)."""
    return Verifier(WEBHOOK_SECRET).problem(received.headers, received.body) is None


def db_rows(assistant: RunningAssistant, query: str, *args) -> list[tuple]:
    with sqlite3.connect(assistant.records_db) as db:
        return db.execute(query, args).fetchall()


def test_booking_reaches_the_clinic_once_and_signed_after_an_outage(
    assistant: RunningAssistant, booking_system: WebhookReceiver, visitor: str
) -> None:
    booking_system.stop()  # the clinic's booking system is down
    reply = book(assistant, visitor)
    reference = REFERENCE.search(reply)[0]
    assert "will call you on +447400123456" in reply, "the visitor is not kept waiting"

    time.sleep(1.5)  # the worker has tried and failed
    [(status, attempts)] = db_rows(assistant, "select status, attempts from outbox where idempotency_key=?", reference)
    assert status == "pending" and attempts >= 1

    booking_system.status = 200
    booking_system.start()
    try:
        [delivery] = booking_system.wait_for(reference)
        check_delivered_once(assistant, booking_system, visitor, reference, delivery)
    finally:
        booking_system.stop()


def check_delivered_once(
    assistant: RunningAssistant, booking_system: WebhookReceiver, visitor: str, reference: str, delivery
) -> None:
    """Signed, valid against the published schema, and still only once after a worker restart."""
    assert valid_signature(delivery)
    payload = delivery.json
    jsonschema.validate(payload, SCHEMA)
    assert payload["reference"] == reference and payload["phone"] == "+447400123456"
    assert payload["conversation"] == {"id": visitor, "channel": "rest"}

    assistant.restart("delivery_worker")
    time.sleep(2)
    assert len(booking_system.with_key(reference)) == 1, "no duplicate after a restart"
    assert db_rows(assistant, "select status from bookings where reference=?", reference) == [("delivered",)]


def test_a_refused_booking_is_not_retried_and_is_flagged_for_staff(
    assistant: RunningAssistant, booking_system: WebhookReceiver, visitor: str
) -> None:
    booking_system.status = 422
    booking_system.start()
    try:
        reference = REFERENCE.search(book(assistant, visitor))[0]
        booking_system.wait_for(reference)
        time.sleep(2.5)
        assert len(booking_system.with_key(reference)) == 1
        assert db_rows(assistant, "select needs_staff from bookings where reference=?", reference) == [(1,)]
        listed = {b["reference"]: b for b in assistant.staff("GET", "/bookings").json()}
        assert listed[reference]["needs_staff"] is True
    finally:
        booking_system.stop()
        booking_system.status = 200


def test_bad_details_are_re_asked_with_a_hint(assistant: RunningAssistant, visitor: str) -> None:
    assistant.texts(visitor, "book an appointment please")
    assistant.texts(visitor, "Sam")
    assert "area code" in assistant.texts(visitor, "12345")
    assert "email" in assistant.texts(visitor, PHONE)
    assert "doesn't look right" in assistant.texts(visitor, "sam@")
    assert "When would suit you" in assistant.texts(visitor, "skip")
    assert "closed on Sundays" in assistant.texts(visitor, "sunday")
    assert "already passed" in assistant.texts(visitor, "yesterday")
    assert "I've noted" in assistant.texts(visitor, "any weekday after 5")


def test_third_bad_answer_offers_a_person(assistant: RunningAssistant, visitor: str) -> None:
    assistant.texts(visitor, "i want to book")
    assistant.texts(visitor, "Sam")
    assistant.texts(visitor, "123")
    assistant.texts(visitor, "456")
    reply = assistant.say(visitor, "789")
    assert "having trouble" in reply[0]["text"]
    assert {"title": "Talk to a person", "payload": "/human_handoff"} in reply[-1]["buttons"]


def test_declined_confirmation_sends_nothing(assistant: RunningAssistant, visitor: str) -> None:
    assistant.texts(visitor, "I'd like to book a consultation")
    for answer in ("Alex Kim", PHONE, "skip", "wednesday evening", "wrinkles", "/affirm"):
        assistant.texts(visitor, answer)
    assert "haven't sent anything" in assistant.texts(visitor, "/deny")
    assert db_rows(assistant, "select count(*) from bookings where conversation_id=?", visitor) == [(0,)]


def test_ruled_out_visitor_gets_a_general_consultation_not_laser(assistant: RunningAssistant, visitor: str) -> None:
    assistant.texts(visitor, "I'm pregnant, can I have the laser?")
    assert "not a laser appointment" in assistant.texts(visitor, "can I book a consultation then")
    for answer in ("Ana", PHONE, "skip", "friday morning", "melasma", "/affirm"):
        reply = assistant.texts(visitor, answer)
    assert "not laser treatment" in reply
    assistant.texts(visitor, "/affirm")
    # Volunteered without agreeing to the health questions: the clinic learns the kind, not why.
    assert db_rows(
        assistant, "select kind, screening_outcome, screening_reasons from bookings where conversation_id=?", visitor
    ) == [("general_consultation", "not_screened", "[]")]


def test_screened_visitor_shares_the_outcome_with_the_clinic(assistant: RunningAssistant, visitor: str) -> None:
    assert "Do you agree" in assistant.texts(visitor, "can you check if I'm suitable?")
    assistant.texts(visitor, "/affirm")
    for answer in ("no", "no", "no", "no", "no", "I'm on roaccutane", "no", "no", "no"):
        reply = assistant.texts(visitor, answer)
    assert "flagged for a clinician" in reply
    book(assistant, visitor)
    assert db_rows(
        assistant, "select kind, screening_outcome, screening_reasons from bookings where conversation_id=?", visitor
    ) == [("laser_consultation", "clinician_review", '["isotretinoin"]')]


def test_long_and_odd_input_is_stored_safely(assistant: RunningAssistant, visitor: str) -> None:
    concern = "<b>acne</b> scars 😊 " + "x" * 1_900  # under the message limit (longer: test_bad_input.py)
    book(assistant, visitor, concern=concern)
    [(stored,)] = db_rows(assistant, "select concern from bookings where conversation_id=?", visitor)
    assert stored.startswith("acne scars 😊") and "<b>" not in stored and len(stored) <= 500


def test_asking_for_a_person_notifies_staff_and_pauses_until_resumed(
    assistant: RunningAssistant, staff_inbox: WebhookReceiver, visitor: str
) -> None:
    assert "phone number or email" in assistant.texts(visitor, "can I talk to a real person?")
    reply = assistant.texts(visitor, "maria@example.com")
    assert "contact you on maria@example.com" in reply and "stay quiet" in reply

    [handoff] = assistant.staff("GET", "/handoffs?status=open").json()[:1]
    assert handoff["conversation"]["id"] == visitor and handoff["contact"] == "maria@example.com"
    [notification] = staff_inbox.wait_for(handoff["reference"])
    assert valid_signature(notification) and notification.json["reason"] == "asked"

    assert "member of our team will reply" in assistant.texts(visitor, "hello? are you there?")
    assert assistant.say(visitor, "still waiting") == [], "acknowledged once, then quiet"
    said = [e["text"] for e in assistant.tracker(visitor)["events"] if e["event"] == "user"]
    assert said[-2:] == ["hello? are you there?", "still waiting"], "kept in the transcript"

    assert assistant.staff("POST", f"/conversations/{visitor}/resume", token=None).status_code == 401
    assert assistant.staff("POST", f"/conversations/{visitor}/resume", token="wrong").status_code == 401
    assert assistant.staff("POST", f"/conversations/{visitor}/resume").json()["resumed"] is True
    assert "7–10 days" in assistant.texts(visitor, "how long is the downtime?")
    statuses = {h["reference"]: h["status"] for h in assistant.staff("GET", "/handoffs").json()}
    assert statuses[handoff["reference"]] == "resumed"


def test_known_phone_is_used_for_the_handoff(assistant: RunningAssistant, visitor: str) -> None:
    book(assistant, visitor)
    assert "contact you on +447400123456" in assistant.texts(visitor, "please have someone call me")


@pytest.mark.parametrize("path", ["/handoffs", "/bookings"])
def test_staff_lists_need_the_token(assistant: RunningAssistant, path: str) -> None:
    assert assistant.staff("GET", path, token=None).status_code == 401
    assert assistant.staff("GET", path).status_code == 200
