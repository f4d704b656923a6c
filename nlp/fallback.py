"""NLU fallback that also notices when the *answer* to a question is uncertain.

Rasa's FallbackClassifier looks at intents only, and all sixteen FAQ topics are one intent
(`faq`). The confusions that matter most (recovery time vs aftercare, risks vs who it suits)
happen between FAQ keys inside the response selector. This classifier also falls back when
the selector's best key is weak or nearly tied with the runner-up, so the assistant asks
"Did you mean…" instead of answering the wrong question confidently.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.training_data.message import Message

from nlp.parse import selector_ranking

RETRIEVAL_THRESHOLD = "retrieval_threshold"
RETRIEVAL_AMBIGUITY_THRESHOLD = "retrieval_ambiguity_threshold"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RetrievalAwareFallbackClassifier(FallbackClassifier):
    """FallbackClassifier plus the same two checks on the response selector's ranking."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **FallbackClassifier.get_default_config(),
            RETRIEVAL_THRESHOLD: 0.4,
            RETRIEVAL_AMBIGUITY_THRESHOLD: 0.1,
        }

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RetrievalAwareFallbackClassifier:
        return cls(config)

    def _should_fallback(self, message: Message) -> bool:
        return super()._should_fallback(message) or self._answer_uncertain(message)

    def _answer_uncertain(self, message: Message) -> bool:
        intent = (message.data.get("intent") or {}).get("name")
        ranking = selector_ranking(message.data, intent)
        if not ranking:
            return False
        best = ranking[0].get("confidence", 0.0)
        runner_up = ranking[1].get("confidence", 0.0) if len(ranking) > 1 else 0.0
        return (
            best < self.component_config[RETRIEVAL_THRESHOLD]
            or best - runner_up < self.component_config[RETRIEVAL_AMBIGUITY_THRESHOLD]
        )
