"""A message sent twice with the same id (a load balancer's retry, or the page resending after
a reconnect) is answered twice with the same reply but runs, and is stored, only once."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support import RunningAssistant

pytestmark = pytest.mark.servers


def post(assistant: RunningAssistant, body: dict) -> list[dict]:
    reply = requests.post(f"{assistant.url}/webhooks/rest/webhook", json=body, timeout=30)
    reply.raise_for_status()
    return reply.json()


def user_texts(assistant: RunningAssistant, sender: str) -> list[str]:
    return [event["text"] for event in assistant.tracker(sender)["events"] if event["event"] == "user"]


def test_a_repeated_message_id_gets_the_first_answer_and_runs_once(assistant: RunningAssistant, visitor: str) -> None:
    body = {"sender": visitor, "message": "how much is a full face session?", "message_id": uuid.uuid4().hex}
    first = post(assistant, body)
    assert "£" in first[0]["text"]
    assert post(assistant, body) == first
    assert user_texts(assistant, visitor) == ["how much is a full face session?"]


def test_the_first_answer_is_found_after_later_turns(assistant: RunningAssistant, visitor: str) -> None:
    body = {"sender": visitor, "message": "does it hurt?", "message_id": uuid.uuid4().hex}
    first = post(assistant, body)
    post(assistant, {"sender": visitor, "message": "how long is the downtime?", "message_id": uuid.uuid4().hex})
    assert post(assistant, body) == first
    assert user_texts(assistant, visitor) == ["does it hurt?", "how long is the downtime?"]


@pytest.mark.parametrize("message_id", [None, "short", "has spaces in it", "x" * 65, 12345678])
def test_without_a_usable_id_each_message_runs(assistant: RunningAssistant, visitor: str, message_id: object) -> None:
    body = {"sender": visitor, "message": "thanks", "message_id": message_id}
    post(assistant, body)
    post(assistant, body)
    assert user_texts(assistant, visitor) == ["thanks", "thanks"]
