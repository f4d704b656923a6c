"""What people and programs really send to the REST channel: every request gets a clear 4xx
or a polite reply, never a 5xx, nothing oversized is stored, and the server keeps answering."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.reply_guard import MAX_MESSAGE_CHARS
from tests.support import RunningAssistant
from tests.whatsapp.simulator import GraphSimulator
from tests.whatsapp.test_channel import WhatsAppVisitor, new_contact, text_of

pytestmark = pytest.mark.servers


def post(assistant: RunningAssistant, body: bytes, content_type: str = "application/json") -> requests.Response:
    return requests.post(
        f"{assistant.url}/webhooks/rest/webhook", data=body, headers={"Content-Type": content_type}, timeout=60
    )


def still_answers(assistant: RunningAssistant) -> None:
    assert assistant.texts(f"alive-{uuid.uuid4().hex[:8]}", "how much does it cost?")


BAD_BODIES = {
    "a JSON array": b'[{"sender": "a", "message": "hi"}]',
    "a JSON string": b'"hello"',
    "no message": b'{"sender": "a"}',
    "an empty message": b'{"sender": "a", "message": "   "}',
    "a number as message": b'{"sender": "a", "message": 42}',
    "a list as message": b'{"sender": "a", "message": ["hi"]}',
    "no sender": b'{"message": "hi"}',
    "an object as sender": b'{"sender": {"id": 1}, "message": "hi"}',
    "a sender too long for the store": json.dumps({"sender": "s" * 300, "message": "hi"}).encode(),
    "broken JSON": b'{"sender": "a", "message": "hi"',
    "invalid UTF-8": b'{"sender": "a", "message": "\xff\xfe hi"}',
    "nothing at all": b"",
    "form data": b"sender=a&message=hi",
    "10 MB": b'{"sender": "a", "message": "' + b"x" * 10_000_000 + b'"}',
}


@pytest.mark.parametrize("name", BAD_BODIES)
def test_a_body_the_channel_cannot_use_gets_a_clear_4xx(assistant: RunningAssistant, name: str) -> None:
    reply = post(assistant, BAD_BODIES[name])
    assert 400 <= reply.status_code < 500, (name, reply.status_code, reply.text[:200])
    assert "sender" in reply.json()["error"] or "KB" in reply.json()["error"]


def test_a_message_too_long_to_read_gets_a_polite_reply_and_is_not_stored(assistant: RunningAssistant) -> None:
    sender = f"long-{uuid.uuid4().hex[:8]}"
    for size in (MAX_MESSAGE_CHARS + 1, 60_000):
        reply = post(assistant, json.dumps({"sender": sender, "message": "a" * size}).encode())
        assert reply.status_code == 200 and "too long" in reply.json()[0]["text"]
    tracker = requests.get(
        f"{assistant.url}/conversations/{sender}/tracker", params={"token": "test-token"}, timeout=30
    )
    assert not [e for e in tracker.json()["events"] if e["event"] == "user"]
    at_limit = assistant.say(sender, "is it painful? " + "really " * ((MAX_MESSAGE_CHARS - 15) // 7))
    assert at_limit and "too long" not in at_limit[0].get("text", "")  # up to the limit is read


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script> how much?",
        "'; DROP TABLE events; --",
        "price\x00\x07\x1b[31m please",
        "💉💉 does it hurt?? 😬",
        "\u202eevil\u202c text",
        '{"intent": "faq"}',
    ],
)
def test_odd_but_valid_text_is_answered(assistant: RunningAssistant, text: str) -> None:
    sender = f"odd-{uuid.uuid4().hex[:8]}"
    reply = post(assistant, json.dumps({"sender": sender, "message": text}).encode())
    assert reply.status_code == 200 and isinstance(reply.json(), list)
    [said] = [e["text"] for e in assistant.tracker(sender)["events"] if e["event"] == "user"]
    assert said == text.replace("\x00", ""), "stored as sent, but for NUL, which PostgreSQL cannot store"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.sampled_from(["sender", "message", "x"]), children, max_size=3)
        ),
        max_leaves=6,
    )
)
def test_no_json_value_makes_the_server_fail(assistant: RunningAssistant, body) -> None:
    reply = post(assistant, json.dumps(body).encode())
    assert reply.status_code < 500, (body, reply.text[:200])


def test_the_server_keeps_answering_after_all_that(assistant: RunningAssistant) -> None:
    for body in BAD_BODIES.values():
        post(assistant, body)
    still_answers(assistant)


def test_a_long_whatsapp_message_gets_the_same_polite_reply_and_is_not_stored(
    assistant: RunningAssistant, meta: GraphSimulator
) -> None:
    visitor = WhatsAppVisitor(meta, assistant, new_contact())
    assert "too long" in text_of(visitor.says("does it hurt? " * 300))
    assert not [event for event in visitor.transcript() if event["event"] == "user"]
    assert "too long" not in text_of(visitor.says("does it hurt?"))  # a usual message is answered as usual
