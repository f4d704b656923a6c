"""Hand the conversation to a person: get a way to reach the visitor, tell staff, pause.

Staff are told through the outbox (a signed POST to STAFF_WEBHOOK_URL and/or an email via
SMTP), so a down notification channel delays the message but never loses it. The assistant
then pauses this conversation (ConversationPaused) until staff resume it through the staff
API; channels/reply_guard.py acknowledges messages sent meanwhile, once.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import records
from actions.booking.validation import Invalid, parse_email, parse_phone
from actions.clinic_config import CLINIC_FACTS
from actions.screening.actions import shareable_screening

logger = logging.getLogger(__name__)
MAX_RETRIES = 2


def known_contact(tracker: Tracker) -> str | None:
    return tracker.get_slot("handoff_contact") or tracker.get_slot("booking_phone")


def parse_contact(text: str) -> str:
    try:
        return parse_phone(text, CLINIC_FACTS.current())
    except Invalid:
        pass
    try:
        return parse_email(text)
    except Invalid:
        raise Invalid("Please give a phone number (with area code) or an email address the team can use.") from None


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handoff_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("booking_phone") or (tracker.get_slot("handoff_attempts") or 0) > MAX_RETRIES:
            return []
        return ["handoff_contact"]

    def validate_handoff_contact(self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        try:
            return {"handoff_contact": parse_contact(str(value or ""))}
        except Invalid as error:
            attempts = (tracker.get_slot("handoff_attempts") or 0) + 1
            if attempts <= MAX_RETRIES:
                dispatcher.utter_message(text=str(error))
            return {"handoff_contact": None, "handoff_attempts": attempts}


def handoff_reason(tracker: Tracker) -> str:
    outcome, _ = shareable_screening(tracker)
    return "clinician_review" if outcome == "clinician_review" else "asked"


def create_handoff(tracker: Tracker) -> str:
    """Stores the request and queues a notification on every configured staff channel."""
    with records.session() as db:
        handoff = records.Handoff(
            reference=records.new_reference("HO"),
            created_at=records.utcnow(),
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel() or "unknown",
            reason=handoff_reason(tracker),
            contact=known_contact(tracker) or "via this chat only",
            screening_outcome=shareable_screening(tracker)[0],
        )
        db.add(handoff)
        db.flush()
        payload = handoff.as_payload()
        if url := os.environ.get("STAFF_WEBHOOK_URL", "").strip():
            records.queue(db, "handoff", handoff.reference, "webhook", url, payload)
        if os.environ.get("SMTP_HOST") and (address := os.environ.get("STAFF_EMAIL", "").strip()):
            records.queue(db, "handoff", handoff.reference, "email", address, payload)
        return handoff.reference


class ActionHandOff(Action):
    def name(self) -> str:
        return "action_hand_off"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        clinic = CLINIC_FACTS.current()
        try:
            await asyncio.to_thread(create_handoff, tracker)
        except Exception:
            logger.exception("Could not record a handoff for %s", tracker.sender_id)
            dispatcher.utter_message(
                text=f"I'm sorry, I couldn't pass this on just now. Please call the team on {clinic.phone}."
            )
            return []
        contact = known_contact(tracker)
        how = f" on {contact}" if contact else " here in this chat"
        dispatcher.utter_message(
            text=f"Thank you. I've asked a member of the team to contact you{how}. "
            f"{clinic.reply_time_text(records.utcnow())} Until then I'll stay quiet in this conversation."
        )
        return [SlotSet("handoff_attempts", None), ConversationPaused()]
