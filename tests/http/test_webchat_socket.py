"""The web chat's socket.io endpoint as browsers and attackers use it, with a real socket.io client."""

from __future__ import annotations

import secrets
import uuid

import pytest

from channels.reply_guard import MAX_MESSAGE_CHARS
from channels.web_sessions import SESSION_ID, SessionIds
from tests.support import RunningAssistant, WebChatVisitor, wait_for

pytestmark = pytest.mark.servers


def said(assistant: RunningAssistant, conversation_id: str) -> list[str]:
    return [e["text"] for e in assistant.tracker(conversation_id)["events"] if e["event"] == "user"]


# 100 KB is over our limit (64 KB) but under engine.io's default (1 MB), which the reply
# guard would answer with "too long"; here the connection is closed and nothing answered.
@pytest.mark.parametrize("size", [100_000, 1_000_000, 10_000_000], ids=["100 KB", "1 MB", "10 MB"])
def test_a_huge_socketio_message_is_refused_unread_and_others_are_still_answered(
    assistant: RunningAssistant, size: int
) -> None:
    flooder, other = WebChatVisitor(assistant), WebChatVisitor(assistant)
    try:
        session_id, _ = flooder.start(), other.start()
        heard_before = len(flooder.heard)
        flooder.sio.emit("user_uttered", {"message": "x" * size, "session_id": session_id})
        # The server answers that POST with 400 and drops the connection (engine.io's state; the
        # socket.io layer above it does not always hear of it).
        wait_for(lambda: flooder.sio.eio.state != "connected", "the connection that sent it is closed", timeout=60)

        assert other.says("how much does it cost?"), "another visitor is answered meanwhile"
        assert len(flooder.heard) == heard_before, "nothing was answered"
        assert not [text for text in said(assistant, session_id) if len(text) > MAX_MESSAGE_CHARS]
    finally:
        flooder.close()
        other.close()


def test_a_long_message_within_the_transport_limit_gets_the_polite_reply(assistant: RunningAssistant) -> None:
    visitor = WebChatVisitor(assistant)
    try:
        session_id = visitor.start()
        assert "too long" in visitor.says("a" * (MAX_MESSAGE_CHARS + 1))[0]["text"]
        assert not [text for text in said(assistant, session_id) if text.startswith("aaa")]
    finally:
        visitor.close()


def test_a_new_visitor_gets_an_unguessable_id_from_the_server_and_a_greeting(assistant: RunningAssistant) -> None:
    first, second = WebChatVisitor(assistant), WebChatVisitor(assistant)
    try:
        ids = first.start(), second.start()
        assert ids[0] != ids[1] and all(SESSION_ID.fullmatch(i) for i in ids), ids
        assert "automated assistant" in first.heard[0]["text"]
    finally:
        first.close()
        second.close()


def rest_conversation(assistant: RunningAssistant, sender: str) -> list[str]:
    """Someone else's conversation, with what they said in it."""
    assistant.say(sender, "hello")
    assistant.say(sender, "I'm 5 months pregnant, can I get the laser?")
    return said(assistant, sender)


ASKED_FOR = {
    "a made-up id": lambda: "let-me-in",
    "another visitor's conversation id": lambda: uuid.uuid4().hex,  # the form Rasa used to issue
    "a WhatsApp number": lambda: f"4474001{uuid.uuid4().int % 10**5:05d}",
    "a well-formed id with a forged signature": lambda: f"{secrets.token_urlsafe(18)}.{'A' * 22}",
    "an id signed with another secret": lambda: SessionIds("not-this-servers-secret").issue(),
    "a number": lambda: 12345,
    "an object": lambda: {"$ne": None},
    "a huge string": lambda: "x" * 50_000,
}


@pytest.mark.parametrize("name", ASKED_FOR)
def test_an_id_the_server_did_not_issue_gets_a_fresh_conversation_instead(
    assistant: RunningAssistant, name: str
) -> None:
    asked = ASKED_FOR[name]()
    someones = rest_conversation(assistant, asked) if isinstance(asked, str) and len(asked) < 100 else None
    intruder = WebChatVisitor(assistant)
    try:
        given = intruder.start(asked)
        assert given != asked and SESSION_ID.fullmatch(given)
        assert "automated assistant" in intruder.heard[0]["text"], "a new visitor's greeting"
        intruder.says("where are you?")
        assert said(assistant, given) == ["/greet", "where are you?"]
        assert assistant.tracker(given)["slots"]["screening_outcome"] is None, "nothing of the other one is seen"
        if someones is not None:
            assert said(assistant, asked) == someones, "the other conversation is not continued"
            assert assistant.tracker(asked)["slots"]["screening_outcome"] == "not_suitable"
    finally:
        intruder.close()


def test_a_session_id_named_in_a_message_is_ignored(assistant: RunningAssistant) -> None:
    victim, intruder = WebChatVisitor(assistant), WebChatVisitor(assistant)
    try:
        victim_id, intruder_id = victim.start(), intruder.start()
        victim.says("are you a bot?")
        heard_by_victim = len(victim.heard)
        intruder.says("where are you?", session_id=victim_id)

        assert said(assistant, victim_id) == ["/greet", "are you a bot?"]
        assert said(assistant, intruder_id) == ["/greet", "where are you?"]
        assert len(victim.heard) == heard_by_victim, "the answer went to the intruder only"
        heard_by_intruder = len(intruder.heard)
        victim.says("how much does it cost?")
        assert len(intruder.heard) == heard_by_intruder, "and the victim's answers stay with the victim"
    finally:
        victim.close()
        intruder.close()


def test_a_reconnect_with_its_own_id_continues_the_same_conversation(assistant: RunningAssistant) -> None:
    first_visit = WebChatVisitor(assistant)
    session_id = first_visit.start()
    first_visit.says("are you a bot?")
    first_visit.close()

    back = WebChatVisitor(assistant)
    try:
        assert back.start(session_id) == session_id
        back.quiet()
        assert back.heard == [], "no second greeting"
        assert "Opening hours" in " ".join(m.get("text", "") for m in back.says("where are you?"))
        events = assistant.tracker(session_id)["events"]
        assert [e["text"] for e in events if e["event"] == "user"] == ["/greet", "are you a bot?", "where are you?"]
        assert [e["event"] for e in events].count("session_started") == 1, "one conversation"
    finally:
        back.close()
