"""The pre-screen's answers over WhatsApp (issue 19's conversations), through Meta's API as the
simulator plays it: the visitor types, and the assistant's questions arrive as interactive messages."""

from __future__ import annotations

import pytest

from tests.screening import issue_examples
from tests.screening.replay import Visitor
from tests.support import RunningAssistant
from tests.whatsapp.simulator import GraphSimulator
from tests.whatsapp.test_channel import WhatsAppVisitor, new_contact

EXAMPLES = [issue_examples.UNSAFE_BEFORE[1], issue_examples.WRONG_OR_STUCK_BEFORE[4], issue_examples.UNSAFE_BEFORE[6]]


@pytest.mark.parametrize("profile", EXAMPLES, ids=lambda p: p["id"])
def test_on_whatsapp_each_conversation_ends_as_a_clinician_would_expect(
    meta: GraphSimulator, assistant: RunningAssistant, profile: dict
) -> None:
    phone = WhatsAppVisitor(meta, assistant, new_contact())
    conversation = phone.contact.user_id or phone.contact.wa_id

    def say(_sender: str, text: str) -> list[dict]:
        return [{"text": sent.text} for sent in phone.says(text)]

    result = Visitor(profile, say, lambda _sender: assistant.tracker(conversation)).play()
    assert result.problems() == [], result.transcript
