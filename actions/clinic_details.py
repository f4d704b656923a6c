"""The clinic's address, phone, opening hours and languages, straight from clinic.yml."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.clinic_config import CLINIC_FACTS, ClinicConfig, spoken_list


def clinic_details_text(clinic: ClinicConfig) -> list[str]:
    """Chat bubbles: where and how to reach the clinic, then when it is open."""
    contact = f"{clinic.name}\n{clinic.address}\nPhone: {clinic.phone}"
    if clinic.email:
        contact += f"\nEmail: {clinic.email}"
    hours = f"Opening hours:\n{clinic.hours_text()}\n\nOur team speaks {spoken_list(clinic.languages)}."
    return [contact, hours]


class ActionClinicDetails(Action):
    def name(self) -> str:
        return "action_clinic_details"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        for text in clinic_details_text(CLINIC_FACTS.current()):
            dispatcher.utter_message(text=text)
        return []
