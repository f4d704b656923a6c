""" "Did you mean…?" when the assistant is not sure what the visitor asked.

Rasa's two-stage fallback calls `action_default_ask_affirmation` first; this replaces Rasa's
default (which names a raw intent) with up to two likely topics as buttons plus "Something
else". Choosing a topic answers it; "Something else" leads to a request to rephrase, and a
second miss to the offer of a person (utter_default).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.topics import likely_topics

SOMETHING_ELSE = {"title": "Something else", "payload": "/out_of_scope"}


class ActionAskWhichTopic(Action):
    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        topics = likely_topics(tracker.latest_message)
        if not topics:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        dispatcher.utter_message(
            text="Sorry, I'm not sure I understood. Did you mean:",
            buttons=[topic.button() for topic in topics] + [SOMETHING_ELSE],
        )
        return []


class ActionNotUnderstood(Action):
    """The dialogue fallback: apologise, offer a person, and wait for the next message.

    Rasa's own action_default_fallback also rewinds the conversation past the visitor's
    message, which would drop anything it recorded (such as a health condition they
    mentioned); this one keeps the message and simply listens again.
    """

    def name(self) -> str:
        return "action_not_understood"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_default")
        return [FollowupAction("action_listen")]
