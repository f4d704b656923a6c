"""The screen as a Rasa conversation: consent, one question at a time, the outcome.

A thin shell: each message is applied once by the core's `take_turn` (core.py), either here in
`action_record_disclosures` (any message) or, when it answers the screen's question, in
`validate_screening_form`. These actions only move data between the conversation and the plain
modules beside this one.

Answers stay answers: while the screen waits for an answer, a message the classifier heard as
a FAQ, "stop", a person or a booking is taken as the answer unless it plainly is that request
(`extract_screen_answer`, answers.plainly_a_request).

Slots: `screening_findings` holds what the visitor told us and the question being answered
(see evaluator.Screening); `screening_outcome` and `screening_reasons` are derived from it;
`screening_told` remembers which outcome the visitor has already been told, so a later, more
cautious finding is announced at once and an outcome is never explained twice.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.booking.updates import queue_screening_update
from actions.privacy import consent
from actions.privacy.actions import record_consent
from actions.screening.answers import plainly_a_request
from actions.screening.core import MOST_ASKED, ask_next, general_facts, late_addition, take_turn
from actions.screening.evaluator import Outcome, Screening, evaluate, next_prompt
from actions.screening.language import Reading, read_message
from actions.screening.messages import (
    CONSENT_BUTTONS,
    CONSENT_REQUEST,
    NO_CONSENT,
    REMINDER,
    YES_NO_BUTTONS,
    Reply,
    booking_updated,
    general_facts_reply,
    outcome_reply,
    prompt_text,
)
from actions.screening.policy import Tier, default_policy
from nlp.parse import selector_ranking

FORM = "screening_form"
CONSENT_SLOT = "screening_consent"
ANSWER_SLOT = "screen_answer"
COMPLETE = "complete"
FAQ_INTENT = "faq"
# How sure the answer selector must be before a personal request also gets a general answer.
GENERAL_PART_CONFIDENCE = 0.45
GENERAL_PART_MARGIN = 0.2
# Intents whose messages never fill screen_answer (domain.yml, its `not_intent`); a test keeps them equal.
NOT_ANSWERS = [
    "faq",
    "stop",
    "human_handoff",
    "erase_my_data",
    "bot_challenge",
    "clinic_info",
    "book_consultation",
    "share_media",
]


def current_screening(tracker: Tracker) -> Screening:
    return Screening.from_slot(tracker.get_slot("screening_findings"))


def reading_of(tracker: Tracker) -> Reading:
    message = tracker.latest_message
    intent = (message.get("intent") or {}).get("name")
    return read_message(message.get("text") or "", intent, message.get("entities") or [])


def screen_is_asking(tracker: Tracker) -> bool:
    return tracker.active_loop.get("name") == FORM and tracker.get_slot("requested_slot") == ANSWER_SLOT


# Requests a visitor may make in the middle of the screen; heard in an answer, they are the answer.
RECLAIMABLE = {"faq", "stop", "human_handoff", "book_consultation", "erase_my_data", "bot_challenge", "clinic_info"}
# Requests honoured whenever they are plain; a side question only while the screen's question has
# not yet been shown twice, so no question comes a third time.
ALWAYS_HONOURED = {"stop", "human_handoff", "erase_my_data", "book_consultation"}


def answers_the_screen(tracker: Tracker) -> bool:
    """The latest message fills screen_answer, so the form's validation takes the turn."""
    if not screen_is_asking(tracker):
        return False
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent not in NOT_ANSWERS:
        return True
    if intent not in RECLAIMABLE:
        return False
    prompt = current_screening(tracker).prompt
    if intent not in ALWAYS_HONOURED and prompt is not None and prompt.asked >= MOST_ASKED:
        return True
    return not plainly_a_request(intent, reading_of(tracker))


NOT_SCREENED = "not_screened"


def shareable_screening(tracker: Tracker) -> tuple[str | None, list[str]]:
    """The outcome and reasons that may leave the conversation (booking, staff notifications).

    Only with the visitor's consent to the health questions. Without it the clinic learns
    "not screened" and screens at the consultation; what the visitor told us stays in the
    conversation, where it still drives the safety replies (and the booking's kind).
    """
    if tracker.get_slot(CONSENT_SLOT) is not True:
        return NOT_SCREENED, []
    return tracker.get_slot("screening_outcome"), list(tracker.get_slot("screening_reasons") or [])


def told_tier(tracker: Tracker) -> Tier | None:
    told = tracker.get_slot("screening_told")
    return Tier.parse(told) if told else None


def screening_slots(screening: Screening) -> dict[str, Any]:
    outcome = evaluate(default_policy(), screening)
    return {
        "screening_findings": screening.to_slot(),
        "screening_outcome": outcome.slot_value,
        "screening_reasons": list(outcome.reasons),
    }


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    *first, last = reply.texts
    for text in first:
        dispatcher.utter_message(text=text)
    dispatcher.utter_message(text=last, buttons=reply.buttons or None)


async def tell_outcome(dispatcher: CollectingDispatcher, tracker: Tracker, outcome: Outcome) -> list[EventType]:
    """The outcome in plain words; a booking made on an earlier outcome is updated at the clinic."""
    send(dispatcher, outcome_reply(outcome))
    if told_tier(tracker) is not None:
        updated = await asyncio.to_thread(queue_screening_update, tracker.sender_id, *shareable_screening(tracker))
        if updated:
            dispatcher.utter_message(text=booking_updated(updated))
    return [SlotSet("screening_told", outcome.slot_value)]


async def announce_if_more_cautious(
    dispatcher: CollectingDispatcher, tracker: Tracker, outcome: Outcome
) -> list[EventType]:
    """Tell the visitor at once when a disclosure rules them out, or worsens what they were told."""
    told = told_tier(tracker)
    if outcome.tier is None or (told is not None and outcome.tier <= told):
        return []
    if told is None and outcome.tier != Tier.NOT_SUITABLE:
        return []  # a review flag mid-screen waits for the end of the screen
    return await tell_outcome(dispatcher, tracker, outcome)


class ActionRecordDisclosures(Action):
    """Runs on every message (a custom slot mapping): records what the visitor says about their health.

    Rasa keeps only the slots that a slot-mapping action sets, so the visitor is told by
    `action_check_disclosures`, which rules run before answering, or by the screen itself.
    """

    def name(self) -> str:
        return "action_record_disclosures"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if answers_the_screen(tracker):
            return []  # validate_screening_form reads this one
        before = current_screening(tracker)
        if told_tier(tracker) is not None:
            after = late_addition(default_policy(), before, reading_of(tracker))
        else:
            after = take_turn(default_policy(), before, reading_of(tracker), answering=False).screening
        if after == before:
            return []
        events = [SlotSet(name, value) for name, value in screening_slots(after).items()]
        if tracker.get_slot(ANSWER_SLOT) == COMPLETE and next_prompt(default_policy(), after) is not None:
            events.append(SlotSet(ANSWER_SLOT, None))  # something new to ask when the screen runs again
        return events


class ActionCheckDisclosures(Action):
    """Before answering a question: say at once if a disclosure rules the visitor out, or,
    when they asked about a condition in general, the fact that matters and the offer to check."""

    def name(self) -> str:
        return "action_check_disclosures"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        policy = default_policy()
        events = await announce_if_more_cautious(dispatcher, tracker, evaluate(policy, current_screening(tracker)))
        if events or told_tier(tracker) == Tier.NOT_SUITABLE:
            return events
        facts = general_facts(policy, reading_of(tracker))
        if facts:
            send(dispatcher, general_facts_reply(list(facts), offer=tracker.active_loop.get("name") != FORM))
        return []


class ActionAnswerGeneralPart(Action):
    """Before the screen starts: answer the treatment question inside a personal one.

    "would it work for me? I'm 52 with deep wrinkles" or "oh I forgot, I'm pregnant. does it
    hurt?" are requests to be checked that also ask something every visitor can be told. When
    the answer selector is confident about one FAQ answer, it is given first.
    """

    def name(self) -> str:
        return "action_answer_general_part"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        ranking = selector_ranking(tracker.latest_message, FAQ_INTENT)
        if ranking and _confident(ranking):
            dispatcher.utter_message(response=f"utter_{ranking[0]['intent_response_key']}")
        return []


def _confident(ranking: list[dict[str, Any]]) -> bool:
    best = ranking[0].get("confidence", 0.0)
    runner_up = ranking[1].get("confidence", 0.0) if len(ranking) > 1 else 0.0
    return best >= GENERAL_PART_CONFIDENCE and best - runner_up >= GENERAL_PART_MARGIN


class ValidateScreeningForm(FormValidationAction):
    def name(self) -> str:
        return "validate_screening_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if evaluate(default_policy(), current_screening(tracker)).tier == Tier.NOT_SUITABLE:
            return []  # nothing more to ask: the visitor is told why instead
        if tracker.get_slot(CONSENT_SLOT) is False:
            return []
        return [CONSENT_SLOT, ANSWER_SLOT]

    async def validate_screening_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if isinstance(value, bool):
            await record_consent(tracker, consent.SCREENING, value, CONSENT_REQUEST)
        if value is True:
            return {CONSENT_SLOT: True, "screening_consent_at": datetime.now(timezone.utc).isoformat()}
        if value is False:
            return {CONSENT_SLOT: False}
        dispatcher.utter_message(text="Sorry, I need a clear yes or no before asking any health questions.")
        return {CONSENT_SLOT: None}

    async def extract_screen_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """An answer the classifier heard as a request ("not anymore since I've been on ramipril"
        as "stop") is still the answer; domain.yml's mapping leaves those intents out."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in RECLAIMABLE and answers_the_screen(tracker):
            return {ANSWER_SLOT: tracker.latest_message.get("text")}
        return {}

    def validate_screen_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        policy = default_policy()
        turn = take_turn(policy, current_screening(tracker), reading_of(tracker), answering=True)
        done = next_prompt(policy, turn.screening) is None
        return {**screening_slots(turn.screening), ANSWER_SLOT: COMPLETE if done else None}


class ActionAskScreeningConsent(Action):
    def name(self) -> str:
        return "action_ask_screening_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=CONSENT_REQUEST, buttons=CONSENT_BUTTONS)
        return []


class ActionAskScreenAnswer(Action):
    """Asks what the screen still needs to know, and remembers it as the question being answered."""

    def name(self) -> str:
        return "action_ask_screen_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        policy = default_policy()
        screening = ask_next(policy, current_screening(tracker))
        if screening.prompt is None:
            return [SlotSet(ANSWER_SLOT, COMPLETE)]
        dispatcher.utter_message(text=prompt_text(policy, screening, screening.prompt), buttons=YES_NO_BUTTONS)
        return [SlotSet("screening_findings", screening.to_slot())]


class ActionScreeningResult(Action):
    """After the form: the outcome in plain words, or a short reminder if already told."""

    def name(self) -> str:
        return "action_screening_result"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        outcome = evaluate(default_policy(), current_screening(tracker))
        if outcome.tier is None and tracker.get_slot(CONSENT_SLOT) is False:
            send(dispatcher, NO_CONSENT)
            return [SlotSet(CONSENT_SLOT, None)]  # asking again later asks for consent again
        if outcome.tier is not None and outcome.tier == told_tier(tracker) and outcome.tier in REMINDER:
            reply = outcome_reply(outcome)
            send(dispatcher, Reply([REMINDER[outcome.tier]], reply.buttons))
            return []
        if outcome.tier is None:
            send(dispatcher, outcome_reply(outcome))
            return []
        return await tell_outcome(dispatcher, tracker, outcome)
