"""The visitor's "delete my data", as a Rasa action.

The action records the request and says what will happen; the Rasa server completes the
erasure as soon as the turn has been saved (channels/erasure.py), because a transcript
deleted during the turn would be written back at its end.
"""

from __future__ import annotations

import asyncio
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.clinic_config import CLINIC_FACTS
from actions.privacy import consent, erasure

logger = logging.getLogger(__name__)

ERASED_RESPONSE = "utter_data_erased"  # channels/erasure.py completes the erasure when it is sent


async def record_consent(tracker: Tracker, kind: str, given: bool, wording: str) -> None:
    """Adds the answer to the consent ledger. A database outage is logged, not shown: the
    answer is also in the transcript, and the visitor should not be stopped by it."""
    channel = tracker.get_latest_input_channel() or "unknown"
    try:
        await asyncio.to_thread(consent.save, tracker.sender_id, kind, given, channel, wording)
    except Exception:
        logger.exception("Could not record a %s consent answer in the ledger", kind)


class ActionEraseData(Action):
    def name(self) -> str:
        return "action_erase_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        channel = tracker.get_latest_input_channel() or "unknown"
        try:
            report = await asyncio.to_thread(erasure.request, tracker.sender_id, channel, "visitor")
        except Exception:
            logger.exception("Could not record an erasure request")
            phone = CLINIC_FACTS.current().phone
            dispatcher.utter_message(
                text="I'm sorry, I couldn't delete your data just now, so nothing has changed. Please ask me "
                f"again in a minute, or call the clinic on {phone} and the team will do it for you."
            )
            return []
        kept = (
            f" The clinic keeps only your booking reference ({', '.join(report.booking_references)}) and a note "
            "that your data was deleted; its booking system has been asked to delete its copy."
            if report.booking_references
            else ""
        )
        dispatcher.utter_message(response=ERASED_RESPONSE, erasure_reference=report.reference, kept=kept)
        return []
