"""Route messages that disclose the visitor's own health (or a family history that counts) to the pre-screen.

"I'm 5 months pregnant, can I get the laser?" or "I'm on roaccutane" often match no intent
well (nlu_fallback), look like an off-topic medical question (out_of_scope), or come wrapped
in small talk ("hi, I'm pregnant"). Either way the visitor is telling us about their health,
and the safe reply is the pre-screen, which tells them at once if that rules laser treatment
out. A "Did you mean…" question here would also lose the disclosure: Rasa replaces the
unclear message with the clarified one. Questions (faq) keep their answer, preceded by the
same announcement (action_check_disclosures); yes/no answers stay answers to the form.
"I don't have cancer anymore" can read as "stop"; it is an answer too. So is a health detail
after a plain yes or no ("no i get cold sores sometimes") that NLU half-took for a request for
a person or to stop. A short statement that ends in a bare yes or no ("an infection yes")
answers a question, even when its words sound like a treatment question. "oh I forgot, I'm
pregnant" can half-read as "forget my data": unless NLU is sure it is a request to erase, a
disclosure goes to the screen (a visitor who did mean erasure asks again; a lost disclosure
could not be undone).

What counts as a disclosure is what the screen itself would record (core.recorded), and a
message that adds to or takes back an earlier answer ("sorry, I forgot to say …"):
"my mum has vitiligo" does, "is it safe while breastfeeding?" and "my husband is diabetic" don't.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message

from actions.screening.answers import adds_to_earlier_answer
from actions.screening.core import recorded
from actions.screening.evaluator import Status
from actions.screening.language import ShortAnswer, closing_answer, mentions_in, opening_answer, read_message
from actions.screening.policy import default_policy

SCREENING_INTENT = "start_screening"
# "no i get cold sores a few times a year" answers a question, yet the classifier sometimes
# hears a request in the detail (a person, stop). Unless it is sure, the opening word wins.
OVERRULED_REQUESTS = {"human_handoff", "stop"}
SURE = 0.8
ROUTED_INTENTS = {"nlu_fallback", "out_of_scope", "greet", "thank", "goodbye", "bot_challenge", "clinic_info", "stop"}
RECORDED = {Status.PRESENT, Status.PENDING, Status.UNSURE}
UNPLACED = {"nlu_fallback", "out_of_scope"}
YES_OR_NO = {"affirm", "deny"}
ERASURE_INTENT = "erase_my_data"
HEARD_AS_QUESTION = {"faq", "out_of_scope", "nlu_fallback"}


def discloses_own_health(text: str, intent: str | None, entities: list[dict[str, Any]]) -> bool:
    """Something the screen would record as present, doubtful or to confirm; or, in a message the
    classifiers could not place, an addition to an earlier answer ("sorry, I forgot to say …")."""
    if recorded(default_policy(), read_message(text, intent, entities)) & RECORDED:
        return True
    return intent in UNPLACED and adds_to_earlier_answer(text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DisclosureRouter(GraphComponent, IntentClassifier):
    """Turns a message that discloses the visitor's health, but asks nothing else, into start_screening."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DisclosureRouter:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get("intent") or {}
            entities = message.get("entities") or []
            text = message.get("text") or ""
            if self._routed(intent, text) and discloses_own_health(text, intent.get("name"), entities):
                message.set("intent", {"name": SCREENING_INTENT, "confidence": 1.0}, add_to_output=True)
                continue
            if answer := self._answer_heard_as_request(text, intent, entities) or self._answer_heard_as_question(
                text, intent
            ):
                message.set("intent", {"name": answer, "confidence": intent.get("confidence")}, add_to_output=True)
        return messages

    @staticmethod
    def _answer_heard_as_question(text: str, intent: dict[str, Any]) -> str | None:
        """affirm or deny for "an infection yes": a few words, no question, a yes or no at the end."""
        if intent.get("name") not in HEARD_AS_QUESTION:
            return None
        return {ShortAnswer.NO: "deny", ShortAnswer.YES: "affirm"}.get(closing_answer(text))

    @staticmethod
    def _routed(intent: dict[str, Any], text: str) -> bool:
        if intent.get("name") == ERASURE_INTENT:
            return float(intent.get("confidence") or 0) < SURE
        if intent.get("name") in YES_OR_NO:
            return adds_to_earlier_answer(text)  # "sorry, I said no to … but I do get them" is no mere "no"
        return intent.get("name") in ROUTED_INTENTS

    @staticmethod
    def _answer_heard_as_request(text: str, intent: dict[str, Any], entities: list[dict[str, Any]]) -> str | None:
        """affirm or deny for a health detail after a plain yes or no that NLU half-took for a request."""
        if intent.get("name") not in OVERRULED_REQUESTS or float(intent.get("confidence") or 0) >= SURE:
            return None
        if not mentions_in(entities):
            return None
        return {ShortAnswer.NO: "deny", ShortAnswer.YES: "affirm"}.get(opening_answer(text))
