"""Conversation start: load the clinic's current facts into slots.

Responses in domain.yml quote these slots ("{clinic_phone}"), so a clinic edits clinic.yml
and the next conversation says the new thing, with no retraining.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clinic_config import CLINIC_FACTS


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        facts = CLINIC_FACTS.current().as_slots()
        return [
            SessionStarted(),
            *carried_over_slots(tracker, domain),
            *(SlotSet(name, value) for name, value in facts.items()),
            ActionExecuted("action_listen"),
        ]


SCREENING_SLOTS = ("screening_", "screen_answer")


def carried_over_slots(tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
    """Slots from the previous session that the domain asks to keep (Rasa's default behaviour).

    Except the pre-screen: health can change between visits, so a new visit is screened afresh
    and an earlier outcome never stands in for asking.
    """
    if not domain.get("session_config", {}).get("carry_over_slots_to_new_session", True):
        return []
    return [
        SlotSet(name, value)
        for name, value in tracker.current_slot_values().items()
        if value is not None and not name.startswith(("clinic_", *SCREENING_SLOTS)) and name != "booking_link"
    ]
