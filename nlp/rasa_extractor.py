"""Rasa NLU component: clinical terms from the clinic's spaCy pipeline, as Rasa entities.

Rasa's own `SpacyEntityExtractor` reports the matched text ("roacutane"); this one reports the
canonical id of the pattern entry ("isotretinoin"), so slots, rules and the screening policy
work with one name per concept whatever the visitor typed. Each entity also carries the
context the pipeline found (`negated`, `hedged`, `asked`, `ended`, `who`, `when`; see
nlp/context.py), which the screen reads from the message.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from spacy.tokens import Doc

import nlp.context  # noqa: F401  (registers clinical_context before SpacyNLP loads the pipeline)
from nlp.text import normalise


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    is_trainable=False,
    model_from="SpacyNLP",
)
class ClinicalTermExtractor(GraphComponent, EntityExtractorMixin):
    """Adds an entity per clinical term the entity ruler found, valued by its canonical id."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ClinicalTermExtractor:
        return cls()

    def process(self, messages: list[Message], model: SpacyModel) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            found = self.add_extractor_name(terms_in(model.model(normalise(text)), text))
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages


def terms_in(doc: Doc, original: str | None = None) -> list[dict[str, Any]]:
    """Rasa entity dicts for the ruler's matches in `doc` (`original`: the text as typed)."""
    return [
        {
            "entity": ent.label_,
            "value": ent.ent_id_ or ent.text.lower(),
            "text": original[ent.start_char : ent.end_char] if original is not None else ent.text,
            "start": ent.start_char,
            "end": ent.end_char,
            "confidence": None,
            "negated": ent._.negated,
            "hedged": ent._.hedged,
            "asked": ent._.asked,
            "ended": ent._.ended,
            "who": ent._.who,
            "when": ent._.when,
            "ago_days": ent._.ago_days,
        }
        for ent in doc.ents
    ]
