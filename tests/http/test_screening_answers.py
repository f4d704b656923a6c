"""The pre-screen's answers end to end (issue 19's conversations), over REST and in the web chat:
real NLU, actions, tracker store; and a booking made before a late disclosure, updated at the
clinic's booking system and with staff."""

from __future__ import annotations

import uuid

import pytest

from tests.http.test_booking import REFERENCE, book, valid_signature
from tests.receiver import WebhookReceiver
from tests.screening import issue_examples
from tests.screening.replay import Visitor
from tests.support import RunningAssistant, WebChatVisitor


@pytest.mark.parametrize("profile", issue_examples.ALL, ids=lambda p: p["id"])
def test_each_conversation_ends_as_a_clinician_would_expect(assistant: RunningAssistant, profile: dict) -> None:
    result = Visitor(profile, assistant.say, assistant.tracker).play()
    assert result.problems() == [], result.transcript


@pytest.mark.parametrize(
    "profile", [issue_examples.UNSAFE_BEFORE[0], issue_examples.UNSAFE_BEFORE[5]], ids=lambda p: p["id"]
)
def test_in_the_web_chat_too(assistant: RunningAssistant, profile: dict) -> None:
    page = WebChatVisitor(assistant)
    try:
        page.start()
        result = Visitor(
            profile, lambda _sender, text: page.says(text), lambda _sender: assistant.tracker(page.session_id)
        ).play()
    finally:
        page.close()
    assert result.problems() == [], result.transcript


def test_a_booking_made_before_a_late_disclosure_is_updated_at_the_clinic(
    assistant: RunningAssistant, booking_system: WebhookReceiver, staff_inbox: WebhookReceiver
) -> None:
    booking_system.start()
    visitor = eligible_visitor(assistant)
    reference = REFERENCE.search(book(assistant, visitor))[0]
    booking_system.wait_for(reference)

    reply = assistant.texts(visitor, "oh sorry, I forgot to say I'm 8 weeks pregnant")
    assert "isn't possible for you at the moment" in reply and f"your booking {reference}" in reply

    key = f"{reference}:not_suitable"
    [update] = booking_system.wait_for(key)
    assert staff_inbox.wait_for(key), "staff are told too"
    assert update.json["event"] == "screening_update" and update.json["screening"]["outcome"] == "not_suitable"
    assert valid_signature(update)
    sent = [r.headers["Idempotency-Key"] for r in booking_system.received if reference in r.headers["Idempotency-Key"]]
    assert sent == [reference, key], "the update never arrives before its booking, and arrives once"
    assert assistant.tracker(visitor)["slots"]["screening_outcome"] == "not_suitable"


def eligible_visitor(assistant: RunningAssistant) -> str:
    """A fresh visitor who passes the screen with plain no's and is offered a booking."""
    visitor = f"booked-{uuid.uuid4().hex[:12]}"
    assert "Do you agree" in assistant.texts(visitor, issue_examples.CHECK_ME)
    reply = assistant.texts(visitor, "yes")
    while "/8:" in reply or "Just to check" in reply:
        reply = assistant.texts(visitor, "no")
    assert "nothing on our list rules out" in reply
    return visitor
