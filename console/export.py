"""Turns staff corrections into training data, and conversations into test stories.

NLU: every relabelled message becomes an example of the intent (or FAQ answer) staff chose,
as Rasa 3 YAML to drop into data/nlu/. Stories: Rasa's own `GET /conversations/<id>/story`
writes the test story; the console puts the corrected intents into it, so the story tests
what the assistant should have understood.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import yaml

from console.models import Relabel

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Rasa reads "[text](entity)" and "{...}" in examples as entity annotations.
ANNOTATION_CHARACTERS = re.compile(r"[\[\]{}]")
# An annotated entity in a story's user text: [sunbed]{"entity": ...} or [sunbed](CONDITION).
ANNOTATION = re.compile(r"\[([^\]]*)\](?:\{[^}]*\}|\([^)]*\))")


@cache
def labels(root: Path = PROJECT_ROOT) -> tuple[str, ...]:
    """What a message can be relabelled as: the domain's intents, with each answer of a retrieval
    intent as <intent>/<key> ("faq/price"), from the responses in data/responses/."""
    domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8"))
    intents = {next(iter(i)) if isinstance(i, dict) else i for i in domain.get("intents", [])}
    answers = set()
    for path in sorted((root / "data" / "responses").glob("*.yml")):
        responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}
        answers.update(name.removeprefix("utter_") for name in responses if "/" in name)
    retrieval = {answer.split("/")[0] for answer in answers}
    return tuple(sorted(intents - retrieval - {"nlu_fallback"})) + tuple(sorted(answers))


def example_text(text: str) -> str:
    return " ".join(ANNOTATION_CHARACTERS.sub(" ", text).split())


def nlu_yaml(relabels: Iterable[Relabel]) -> str:
    """Rasa 3 NLU training data: one block per label, each text once, in a stable order."""
    by_label: dict[str, set[str]] = defaultdict(set)
    for relabel in relabels:
        text = example_text(relabel.text)
        if text and not text.startswith("/"):
            by_label[relabel.corrected].add(text)
    lines = ['version: "3.1"', "nlu:"]
    for label in sorted(by_label):
        lines += [f"- intent: {label}", "  examples: |"]
        lines += [f"    - {text}" for text in sorted(by_label[label])]
    return "\n".join(lines) + "\n"


def corrected_story(story: str, relabels: Iterable[Relabel]) -> str:
    """Rasa's test story with each relabelled message's intent replaced by the correction."""
    corrections = {relabel.text.strip(): relabel.corrected for relabel in relabels}
    document = yaml.safe_load(story) or {}
    for one_story in document.get("stories") or []:
        for step in one_story.get("steps") or []:
            text = ANNOTATION.sub(r"\1", str(step.get("user", ""))).strip()
            if "intent" in step and text in corrections:
                step["intent"] = corrections[text]
    document.setdefault("version", "3.1")
    return yaml.safe_dump(
        {"version": str(document.pop("version")), **document}, sort_keys=False, allow_unicode=True, width=1000
    )
