"""What staff do with the console after real conversations: follow up a refused booking,
find conversations by what happened in them, read the overview, and answer a WhatsApp
visitor inside (and not outside) WhatsApp's 24-hour window."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from actions import records
from actions.records import WhatsAppContact
from tests.console.support import ConsoleClient, logged_in
from tests.http.test_booking import REFERENCE, book
from tests.receiver import WebhookReceiver
from tests.support import RunningAssistant
from tests.whatsapp.simulator import GraphSimulator
from tests.whatsapp.test_channel import WhatsAppVisitor, new_contact, text_of

pytestmark = pytest.mark.servers


def listed(client: ConsoleClient, **filters: str) -> set[str]:
    """Conversation ids on the first page of the JSON list with these filters."""
    reply = client.http.get(f"{client.base_url}/api/conversations", params=filters, timeout=30)
    reply.raise_for_status()
    return {row["id"] for row in reply.json()["conversations"]}


def test_a_refused_booking_is_flagged_first_retried_and_marked_handled(
    assistant: RunningAssistant, booking_system: WebhookReceiver, console_roles: dict
) -> None:
    visitor = f"queue-{time.time_ns()}"
    booking_system.status = 422
    booking_system.start()
    try:
        reference = REFERENCE.search(book(assistant, visitor))[0]
        booking_system.wait_for(reference)
        staff = logged_in(assistant, "staff")
        deadline = time.monotonic() + 15
        while "needs staff" not in (page := staff.get("/bookings").text) and time.monotonic() < deadline:
            time.sleep(0.3)
        first = re.search(r"<strong>(BK-[A-Z2-9]{6})</strong>", page)[1]
        assert first == reference and "refused: HTTP 422" in page
        assert "Maria" not in page and "123456" not in page  # masked in the queue
        booking_system.status = 200  # the clinic fixed their booking system
        staff.post(f"/bookings/{reference}/retry")
        deadline = time.monotonic() + 15
        while len(booking_system.with_key(reference)) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert len(booking_system.with_key(reference)) == 2
        deadline = time.monotonic() + 15
        while "needs staff" in staff.get("/bookings").text and time.monotonic() < deadline:
            time.sleep(0.3)
        page = staff.get("/bookings").text
        assert reference in page and "delivered" in page
        staff.post(f"/bookings/{reference}/handled")
        assert reference not in staff.get("/bookings").text  # open ones only by default
        assert "handled by test-staff" in staff.get("/bookings", params={"all": "1"}).text
    finally:
        booking_system.stop()
        booking_system.status = 200


def test_conversations_are_found_by_what_happened_in_them(assistant: RunningAssistant, console_roles: dict) -> None:
    asked = f"asked-{time.time_ns()}"
    assert "£" in assistant.texts(asked, "how much is a full face session?")
    puzzled = f"puzzled-{time.time_ns()}"
    # Words no topic shares: the assistant is unsure whatever the model (a real question it is
    # unsure about today may be learnt tomorrow).
    unsure = assistant.texts(puzzled, "hmm the thing with the stuff")
    assert "Did you mean" in unsure or "put that another way" in unsure
    unsuitable = f"unsuitable-{time.time_ns()}"
    assert "isn't possible for you" in assistant.texts(unsuitable, "I'm pregnant, could I have the laser?")
    person = f"person-{time.time_ns()}"
    assistant.say(person, "can I talk to someone from the clinic please")
    assistant.say(person, "someone@example.com")

    staff = logged_in(assistant, "staff")
    deadline = time.monotonic() + 15
    while person not in listed(staff, handed_off="yes") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert person in listed(staff, handed_off="yes") and asked not in listed(staff, handed_off="yes")
    assert puzzled in listed(staff, fell_back="yes") and asked not in listed(staff, fell_back="yes")
    assert unsuitable in listed(staff, outcome="not_suitable") and asked in listed(staff, outcome="none")
    rows = staff.http.get(f"{staff.base_url}/api/conversations", params={"outcome": "not_suitable"}, timeout=30).json()
    first = next(row["first_question"] for row in rows["conversations"] if row["id"] == unsuitable)
    assert first == "I'm ••••, could I have the laser?"  # lists never show health details
    assert {asked, puzzled, unsuitable, person} <= listed(staff, channel="rest", booked="no")
    assert not {asked, puzzled} & listed(staff, channel="web")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert asked in listed(staff, since=today, until=today, q="full face")
    assert asked not in listed(staff, until="2020-01-01")

    overview = staff.get("/").text
    assert overview.count("<svg") >= 5
    answered = re.search(r"<title>Questions answered: (\d+)</title>", overview)
    assert answered and int(answered[1]) >= 1
    assert re.search(r"<title>price: \d+</title>", overview)  # the FAQ answer given above


def test_a_whatsapp_visitor_gets_the_reply_within_the_window_and_staff_are_told_after_it(
    assistant: RunningAssistant, meta: GraphSimulator, console_roles: dict
) -> None:
    visitor = WhatsAppVisitor(meta, assistant, new_contact())
    visitor.says("I'd like to speak to a real person")
    replies = text_of(visitor.says("07400 123456"))
    assert "stay quiet" in replies
    conversation = visitor.recipient
    staff = logged_in(assistant, "staff")
    staff.get(f"/conversations/{conversation}")
    before = len(visitor.received)
    sent = staff.post(f"/conversations/{conversation}/reply", {"text": "Hi, this is Anna from the clinic."})
    assert sent.status_code == 200, re.findall(r'class="error"[^>]*>([^<]*)', sent.text)
    arrived = meta.wait_for_sends(before + 1, recipient=conversation)
    assert arrived[-1].text == "Hi, this is Anna from the clinic."
    page = staff.get(f"/conversations/{conversation}").text
    assert "Hi, this is Anna from the clinic." in page and "test-staff (staff)" in page
    assert conversation not in page.split("<h1>")[1].split("</h1>")[0]  # the id is the phone number

    with records.session(f"sqlite:///{assistant.records_db}") as db:  # a day and more goes by
        db.execute(
            update(WhatsAppContact)
            .where(WhatsAppContact.conversation_id == conversation)
            .values(last_inbound_at=records.utcnow() - timedelta(hours=25))
        )
    late = staff.post(f"/conversations/{conversation}/reply", {"text": "Are you still there?"})
    assert (
        late.status_code == 502
        and "24-hour WhatsApp window has closed" in late.text
        and "Are you still there?" in late.text
    )
    visitor.hears_nothing(after=len(visitor.received), seconds=1.0)

    resumed = staff.post(f"/conversations/{conversation}/resume")
    assert resumed.status_code == 200 and "Replies are possible once it is handed to a person" in resumed.text
