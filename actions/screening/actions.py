"""The screen as a Rasa conversation: consent, one question at a time, the outcome.

All decisions are made by the plain modules beside this one (policy, evaluator, language,
messages); these actions only move data between them and the conversation.

Slots: `screening_findings` holds what the visitor told us (see evaluator.Screening);
`screening_outcome` and `screening_reasons` are derived from it after every message;
`screening_told` remembers which outcome the visitor has already been told, so a later,
more cautious finding is announced at once and an outcome is never explained twice.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.screening.evaluator import Answer, Outcome, Screening, evaluate, open_questions, record_answer
from actions.screening.language import findings, read_answer
from actions.screening.messages import (
    CLARIFY_HINT,
    CONSENT_BUTTONS,
    CONSENT_REQUEST,
    NO_CONSENT,
    REMINDER,
    YES_NO_BUTTONS,
    Reply,
    outcome_reply,
)
from actions.screening.policy import Tier, default_policy

FORM = "screening_form"
CONSENT_SLOT = "screening_consent"
ANSWER_SLOT = "screen_answer"
COMPLETE = "complete"


def current_screening(tracker: Tracker) -> Screening:
    return Screening.from_slot(tracker.get_slot("screening_findings"))


def latest_findings(tracker: Tracker):
    return findings(default_policy(), tracker.latest_message.get("entities") or [])


def told_tier(tracker: Tracker) -> Tier | None:
    told = tracker.get_slot("screening_told")
    return Tier.parse(told) if told else None


def screening_events(screening: Screening) -> tuple[list[EventType], Outcome]:
    outcome = evaluate(default_policy(), screening)
    return [
        SlotSet("screening_findings", screening.to_slot()),
        SlotSet("screening_outcome", outcome.slot_value),
        SlotSet("screening_reasons", list(outcome.reasons)),
    ], outcome


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    *first, last = reply.texts
    for text in first:
        dispatcher.utter_message(text=text)
    dispatcher.utter_message(text=last, buttons=reply.buttons or None)


def announce_if_more_cautious(dispatcher: CollectingDispatcher, tracker: Tracker, outcome: Outcome) -> list[EventType]:
    """Tell the visitor at once when a disclosure rules them out, or worsens what they were told."""
    told = told_tier(tracker)
    if outcome.tier is None or (told is not None and outcome.tier <= told):
        return []
    if told is None and outcome.tier != Tier.NOT_SUITABLE:
        return []  # a review flag mid-screen waits for the end of the screen
    send(dispatcher, outcome_reply(outcome))
    return [SlotSet("screening_told", outcome.slot_value)]


class ActionRecordDisclosures(Action):
    """Runs on every message (a custom slot mapping): records conditions mentioned anywhere.

    Rasa keeps only the slots that a slot-mapping action sets (it drops its messages), so the
    visitor is told by `action_check_disclosures`, which rules run before answering.
    """

    def name(self) -> str:
        return "action_record_disclosures"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        found = latest_findings(tracker)
        before = current_screening(tracker)
        after = before.with_findings(found.present, found.absent)
        if after == before:
            return []
        events, _ = screening_events(after)
        return events


class ActionCheckDisclosures(Action):
    """Before answering a question: say at once if something the visitor disclosed rules them out."""

    def name(self) -> str:
        return "action_check_disclosures"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        outcome = evaluate(default_policy(), current_screening(tracker))
        return announce_if_more_cautious(dispatcher, tracker, outcome)


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

    def validate_screening_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {CONSENT_SLOT: True, "screening_consent_at": datetime.now(timezone.utc).isoformat()}
        if value is False:
            return {CONSENT_SLOT: False}
        dispatcher.utter_message(text="Sorry, I need a clear yes or no before asking any health questions.")
        return {CONSENT_SLOT: None}

    def validate_screen_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        policy = default_policy()
        screening = current_screening(tracker)
        question_id = tracker.get_slot("screening_question")
        if question_id is None or question_id not in open_questions(policy, screening):
            return self._next(screening)

        found = latest_findings(tracker)
        screening = screening.with_findings(found.present, found.absent)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answer = read_answer(policy.question(question_id), intent, str(value or ""), found)
        if answer is None and evaluate(policy, screening).tier != Tier.NOT_SUITABLE:
            if tracker.get_slot("screening_clarifying") != question_id:
                dispatcher.utter_message(text=CLARIFY_HINT)
                return {ANSWER_SLOT: None, "screening_clarifying": question_id}
            answer = Answer.UNCLEAR  # one clarifying question, then it goes to a clinician
        if answer is not None:
            screening = record_answer(policy, screening, question_id, answer)
        return self._next(screening)

    @staticmethod
    def _next(screening: Screening) -> dict[str, Any]:
        """Record the answers; keep asking while questions remain, else finish the form."""
        events, _ = screening_events(screening)
        slots = {event["name"]: event["value"] for event in events}
        done = not open_questions(default_policy(), screening)
        return {**slots, ANSWER_SLOT: COMPLETE if done else None, "screening_clarifying": None}


class ActionAskScreeningConsent(Action):
    def name(self) -> str:
        return "action_ask_screening_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=CONSENT_REQUEST, buttons=CONSENT_BUTTONS)
        return []


class ActionAskScreenAnswer(Action):
    """Asks the next open question of the policy, in the policy's order."""

    def name(self) -> str:
        return "action_ask_screen_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        policy = default_policy()
        remaining = open_questions(policy, current_screening(tracker))
        if not remaining:
            return [SlotSet(ANSWER_SLOT, COMPLETE)]
        question = policy.question(remaining[0])
        position = len(policy.questions) - len(remaining) + 1
        dispatcher.utter_message(
            text=f"{position}/{len(policy.questions)}: {question.text}",
            buttons=YES_NO_BUTTONS,
        )
        return [SlotSet("screening_question", question.id)]


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
        send(dispatcher, outcome_reply(outcome))
        return [SlotSet("screening_told", outcome.slot_value)] if outcome.tier is not None else []
