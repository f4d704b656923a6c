"""The web chat's socket.io endpoint as browsers and attackers use it, with a real socket.io client."""

from __future__ import annotations

import pytest

from channels.reply_guard import MAX_MESSAGE_CHARS
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
