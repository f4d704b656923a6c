"""Stopping a form (the pre-screen, a booking, a handoff) asks first."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

QUESTIONS = {
    "screening_form": "Do you want to stop the health questions? Your answers so far are kept for the clinician.",
    "booking_form": "Do you want to stop this booking request? Nothing has been sent to the clinic yet.",
    "handoff_form": "Do you want to stop? I won't pass anything on to the team.",
}
BUTTONS = [{"title": "Yes, stop", "payload": "/affirm"}, {"title": "No, carry on", "payload": "/deny"}]


class ActionAskStopForm(Action):
    """Asks to confirm, and clears requested_slot so the reply is not taken as a form answer."""

    def name(self) -> str:
        return "action_ask_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        form = tracker.active_loop.get("name")
        dispatcher.utter_message(text=QUESTIONS.get(form, "Do you want to stop?"), buttons=BUTTONS)
        return [SlotSet("requested_slot", None)]
