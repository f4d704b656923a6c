"""The action server's replies are judged exactly as Rasa judges them, by a validator built once."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from channels.action_replies import validate_action_result

RASA_CHECK = RemoteAction._validate_action_result  # before any server start replaces it

REPLIES: list[Any] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "booking_phone", "value": "+447400123456", "timestamp": None}]},
    {"events": [{"event": "bot", "text": "Hello", "data": {"buttons": []}, "metadata": {}}], "responses": [{}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "utter_greet"}]},
    {"events": [{"event": "slot"}]},  # a slot event needs a name
    {"events": [{"text": "no event type"}]},
    {"events": {"event": "slot"}},
    {"responses": "hello"},
    {"events": [{"event": "not_an_event"}]},
    ["not", "an", "object"],
]


@pytest.mark.parametrize("reply", REPLIES)
def test_a_reply_passes_or_fails_exactly_as_in_rasa(reply: Any) -> None:
    action = RemoteAction("action_check_disclosures", None)
    try:
        expected = RASA_CHECK(action, reply)
    except ValidationError as rasa_error:
        with pytest.raises(ValidationError) as ours:
            validate_action_result(action, reply)
        assert ours.value.message == rasa_error.message
    else:
        assert validate_action_result(action, reply) is expected is True
