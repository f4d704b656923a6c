"""Read a message exactly as production does: the built spaCy pipeline, the Rasa extractor's
entity dicts, the screen's `read_message` and the core's `take_turn`."""

from __future__ import annotations

from functools import cache

import spacy
from spacy.language import Language

import nlp.context  # noqa: F401  (registers clinical_context, as Rasa's SpacyNLP needs it)
from actions.screening.core import Turn, take_turn
from actions.screening.evaluator import Screening
from actions.screening.language import Reading, read_message
from actions.screening.policy import default_policy
from nlp.build_pipeline import DEFAULT_OUTPUT, build, load_patterns
from nlp.rasa_extractor import terms_in
from nlp.text import normalise


@cache
def pipeline() -> Language:
    """The pipeline `make setup` wrote (what config.yml loads); built in memory if it is missing."""
    if (DEFAULT_OUTPUT / "meta.json").exists():
        return spacy.load(DEFAULT_OUTPUT)
    return build(load_patterns())


def read(text: str, intent: str | None = None) -> Reading:
    return read_message(text, intent, terms_in(pipeline()(normalise(text)), text))


def turn(text: str, screening: Screening | None = None, intent: str | None = None, answering: bool = False) -> Turn:
    return take_turn(default_policy(), screening or Screening(), read(text, intent), answering)
