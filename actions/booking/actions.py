"""The booking form and its handoff to the clinic: collect, read back, confirm, store, queue.

The visitor's confirmation never waits on the clinic's booking system: the booking and its
delivery are written to the database in one transaction, and the delivery worker
(actions/delivery.py) sends it when it can.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from datetime import datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import records
from actions.booking.validation import (
    MAX_CONCERN,
    Invalid,
    Window,
    clean_text,
    parse_email,
    parse_name,
    parse_phone,
    parse_window,
)
from actions.clinic_config import CLINIC_FACTS
from actions.privacy import consent
from actions.privacy.actions import record_consent
from actions.screening.actions import shareable_screening
from actions.topics import TOPICS

logger = logging.getLogger(__name__)

DETAILS = ["booking_name", "booking_phone", "booking_email", "booking_when", "booking_concern"]
REQUIRED = [*DETAILS, "booking_contact_consent", "booking_confirmed"]
PER_BOOKING = ["booking_when", "booking_concern", "booking_contact_consent", "booking_confirmed", "booking_failures"]
MAX_RETRIES = 2  # re-asked twice with a hint; the third miss offers a person
SUMMARY_CONCERN = 150  # the read-back stays one chat bubble; the booking keeps the full text
SKIP_WORDS = {"skip", "no", "none", "no email", "nope", "no thanks", "n/a", "-"}
YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


def booking_kind(tracker: Tracker) -> str:
    """Visitors the screen ruled out are booked for a general consultation, never for laser."""
    return "general_consultation" if tracker.get_slot("screening_outcome") == "not_suitable" else "laser_consultation"


def whatsapp_number(tracker: Tracker) -> str | None:
    """On WhatsApp the sender's number is usually known; offer it instead of asking.

    The channel keeps it in each message's metadata (the conversation id may be a
    business-scoped user id instead, and a visitor with a username may share no number).
    """
    if tracker.get_latest_input_channel() != "whatsapp":
        return None
    phone = ((tracker.latest_message.get("metadata") or {}).get("whatsapp") or {}).get("phone")
    try:
        return parse_phone(phone, CLINIC_FACTS.current()) if phone else None
    except Invalid:
        return None


class ValidateBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        stopped = tracker.get_slot("booking_given_up") or tracker.get_slot("booking_contact_consent") is False
        return [] if stopped else REQUIRED

    def _retry(self, slot: str, error: Invalid, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        failures = dict(tracker.get_slot("booking_failures") or {})
        failures[slot] = failures.get(slot, 0) + 1
        if failures[slot] > MAX_RETRIES:
            dispatcher.utter_message(text="I'm sorry, I'm having trouble with that.")
            return {slot: None, "booking_failures": failures, "booking_given_up": True}
        dispatcher.utter_message(text=str(error))
        return {slot: None, "booking_failures": failures}

    async def extract_booking_when(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A time like "any weekday after 5" can read as a question to NLU; if it is a time, it is the answer."""
        if tracker.get_slot("requested_slot") != "booking_when" or tracker.get_slot("booking_when"):
            return {}
        text = tracker.latest_message.get("text") or ""
        try:
            parse_window(text, CLINIC_FACTS.current(), records.utcnow())
        except Invalid:
            return {}
        return {"booking_when": text}

    def validate_booking_name(self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        try:
            return {"booking_name": parse_name(value)}
        except Invalid as error:
            return self._retry("booking_name", error, dispatcher, tracker)

    def validate_booking_phone(self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        suggested = whatsapp_number(tracker)
        if suggested and tracker.get_intent_of_latest_message() == "affirm":
            return {"booking_phone": suggested}
        try:
            return {"booking_phone": parse_phone(value, CLINIC_FACTS.current())}
        except Invalid as error:
            return self._retry("booking_phone", error, dispatcher, tracker)

    def validate_booking_email(self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip().lower()
        if text in SKIP_WORDS or tracker.get_intent_of_latest_message() == "deny":
            return {"booking_email": "none"}
        try:
            return {"booking_email": parse_email(value)}
        except Invalid as error:
            return self._retry("booking_email", error, dispatcher, tracker)

    def validate_booking_when(self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        try:
            window = parse_window(str(value or ""), CLINIC_FACTS.current(), records.utcnow())
        except Invalid as error:
            return self._retry("booking_when", error, dispatcher, tracker)
        dispatcher.utter_message(text=f"I've noted {window.spoken()}.")
        return {
            "booking_when": clean_text(value, 200),
            "booking_window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        }

    def validate_booking_concern(self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        concern = clean_text(value, MAX_CONCERN)
        if not concern:
            return self._retry(
                "booking_concern", Invalid("Which area or concern would you like to discuss?"), dispatcher, tracker
            )
        return {"booking_concern": concern}

    async def validate_booking_contact_consent(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if isinstance(value, bool):
            await record_consent(tracker, consent.CONTACT, value, contact_consent_wording(domain))
        return yes_or_no("booking_contact_consent", value, dispatcher)

    def validate_booking_confirmed(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return yes_or_no("booking_confirmed", value, dispatcher)


def contact_consent_wording(domain: DomainDict) -> str:
    """The question exactly as domain.yml words it (the ledger versions it by its text)."""
    variations = domain.get("responses", {}).get("utter_ask_booking_contact_consent") or [{}]
    return variations[0].get("text", "")


def yes_or_no(slot: str, value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """Yes/no slots also catch free text, so an unclear reply is asked again, not lost."""
    if isinstance(value, bool):
        return {slot: value}
    dispatcher.utter_message(text="Sorry, I need a yes or a no here.")
    return {slot: None}


def window_of(tracker: Tracker) -> Window:
    window = tracker.get_slot("booking_window")
    return Window(datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"]))


def summary(tracker: Tracker) -> str:
    email = tracker.get_slot("booking_email")
    kind = {
        "general_consultation": "a general consultation or call (not laser treatment)",
        "laser_consultation": "a consultation for fractional laser rejuvenation",
    }[booking_kind(tracker)]
    flag = (
        "\nA clinician will review your pre-screen answers first."
        if tracker.get_slot("screening_outcome") == "clinician_review"
        else ""
    )
    return (
        "Please check your request:\n"
        f"• Name: {tracker.get_slot('booking_name')}\n"
        f"• Phone: {tracker.get_slot('booking_phone')}\n"
        f"• Email: {email if email and email != 'none' else 'not given'}\n"
        f"• Preferred time: {window_of(tracker).spoken()}\n"
        f"• About: {clean_text(tracker.get_slot('booking_concern'), SUMMARY_CONCERN)}\n"
        f"• For: {kind}{flag}\n\n"
        "Shall I send it to the clinic?"
    )


class ActionAskBookingName(Action):
    def name(self) -> str:
        return "action_ask_booking_name"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if booking_kind(tracker) == "general_consultation":
            dispatcher.utter_message(
                text="As laser treatment isn't possible for you at the moment, I'll request a general "
                "consultation or call with the team instead (not a laser appointment)."
            )
        dispatcher.utter_message(text="Let's request your consultation. What's your name?")
        return []


class ActionAskBookingPhone(Action):
    def name(self) -> str:
        return "action_ask_booking_phone"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        suggested = whatsapp_number(tracker)
        if suggested:
            dispatcher.utter_message(
                text=f"Can the clinic call you on {suggested}? If not, type the best number.", buttons=YES_NO
            )
        else:
            dispatcher.utter_message(text="Which phone number can the clinic call you on?")
        return []


class ActionAskBookingConfirmed(Action):
    def name(self) -> str:
        return "action_ask_booking_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text=summary(tracker),
            buttons=[{"title": "Yes, send it", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
        )
        return []


def create_booking(tracker: Tracker) -> str:
    """Stores the booking and, when a booking system is configured, queues its delivery."""
    window = window_of(tracker)
    email = tracker.get_slot("booking_email")
    outcome, reasons = shareable_screening(tracker)
    webhook = os.environ.get("BOOKING_WEBHOOK_URL", "").strip()
    with records.session() as db:
        booking = records.Booking(
            reference=records.new_reference("BK"),
            created_at=records.utcnow(),
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel() or "unknown",
            kind=booking_kind(tracker),
            name=tracker.get_slot("booking_name"),
            phone=tracker.get_slot("booking_phone"),
            email=None if email in (None, "none") else email,
            window_start=window.start,
            window_end=window.end,
            preferred_time_text=tracker.get_slot("booking_when"),
            concern=tracker.get_slot("booking_concern"),
            contact_consent=True,
            screening_outcome=outcome,
            screening_reasons=json.dumps(reasons),
            status="received" if webhook else "stored_only",
        )
        db.add(booking)
        db.flush()
        if webhook:
            payload = booking.as_payload(consent.ledger(db, tracker.sender_id))
            records.queue(db, "booking", booking.reference, "webhook", webhook, payload)
        return booking.reference


class ActionSubmitBooking(Action):
    """After the form: store and confirm, or explain why nothing was booked."""

    def name(self) -> str:
        return "action_submit_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        clinic = CLINIC_FACTS.current()
        reset = [SlotSet(slot, None) for slot in PER_BOOKING] + [SlotSet("booking_given_up", None)]
        if tracker.get_slot("booking_given_up"):
            dispatcher.utter_message(
                text=f"A member of our team can take your booking instead, or you can call us on {clinic.phone}.",
                buttons=[TOPICS["human_handoff"].button()],
            )
            return reset
        if tracker.get_slot("booking_contact_consent") is False:
            dispatcher.utter_message(
                text="Without your permission the clinic can't contact you about a booking, so I haven't sent "
                f"anything. You can book yourself at {clinic.booking_link} or call us on {clinic.phone}."
            )
            return reset
        if not tracker.get_slot("booking_confirmed"):
            dispatcher.utter_message(
                text="OK, I haven't sent anything. You can start again whenever you like.",
                buttons=[TOPICS["book_consultation"].button(), TOPICS["human_handoff"].button()],
            )
            return reset
        try:
            reference = await asyncio.to_thread(create_booking, tracker)
        except Exception:
            logger.exception("Could not store a booking for %s", tracker.sender_id)
            dispatcher.utter_message(
                text="I'm sorry, I couldn't save your request just now. Please try again in a minute "
                f"(your details are kept), or call us on {clinic.phone}.",
                buttons=[TOPICS["book_consultation"].button()],
            )
            return [SlotSet("booking_confirmed", None)]
        dispatcher.utter_message(
            text=f"Thank you, {tracker.get_slot('booking_name')}! Your request is with the clinic: reference "
            f"{reference}. The team will call you on {tracker.get_slot('booking_phone')} to confirm a time "
            f"({window_of(tracker).spoken()})."
        )
        return [*reset, SlotSet("booking_reference", reference)]
