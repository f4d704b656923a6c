"""The training and held-out examples are varied, plentiful and independent of each other."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from difflib import SequenceMatcher
from pathlib import Path

import pytest
import yaml

from actions.screening.actions import NOT_ANSWERS
from actions.topics import TOPICS

ROOT = Path(__file__).resolve().parents[2]
TRAINING_FILES = sorted((ROOT / "data" / "nlu").glob("*.yml"))
HELDOUT_FILE = ROOT / "tests" / "nlu" / "heldout.yml"
NEAR_DUPLICATE = 0.9
MIN_TRAINING_EXAMPLES = 30
MIN_HELDOUT_EXAMPLES = 8


def examples(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(label, text) pairs from Rasa NLU YAML files."""
    pairs = []
    for path in paths:
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in block:
                for line in block["examples"].splitlines():
                    if line.strip().startswith("- "):
                        pairs.append((block["intent"], line.strip()[2:].strip()))
    return pairs


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def similar_pairs(texts: list[str], threshold: float) -> list[tuple[str, str, float]]:
    """Pairs whose normalised character similarity exceeds `threshold` (cheap bounds first)."""
    found = []
    normalised = [normalise(t) for t in texts]
    matcher = SequenceMatcher(None)
    for j, b in enumerate(normalised):
        matcher.set_seq2(b)  # analysed once for all its pairs
        for i, a in enumerate(normalised[:j]):
            if min(len(a), len(b)) * 2 / (len(a) + len(b) or 1) <= threshold:
                continue
            matcher.set_seq1(a)
            if matcher.real_quick_ratio() > threshold and matcher.quick_ratio() > threshold:
                ratio = matcher.ratio()
                if ratio > threshold:
                    found.append((texts[i], texts[j], round(ratio, 2)))
    return found


TRAINING = examples(TRAINING_FILES)
HELDOUT = examples([HELDOUT_FILE])


def test_training_examples_have_no_near_duplicates() -> None:
    assert similar_pairs([text for _, text in TRAINING], NEAR_DUPLICATE) == []


def test_heldout_examples_are_not_copies_of_training_examples() -> None:
    training = {normalise(text): text for _, text in TRAINING}
    copies = []
    for _, text in HELDOUT:
        key = normalise(text)
        matcher = SequenceMatcher(None, b=key)  # the heldout side is analysed once (cheap bounds first)
        for other_key, other in training.items():
            if abs(len(key) - len(other_key)) >= 0.2 * len(key) + 2:
                continue
            matcher.set_seq1(other_key)
            bounds = (matcher.real_quick_ratio, matcher.quick_ratio, matcher.ratio)  # each bounds the next
            if all(bound() > NEAR_DUPLICATE for bound in bounds):
                copies.append((text, other))
    assert copies == []


@pytest.mark.parametrize("label", sorted({label for label, _ in TRAINING}))
def test_every_label_has_enough_training_examples(label: str) -> None:
    assert Counter(lab for lab, _ in TRAINING)[label] >= MIN_TRAINING_EXAMPLES


def test_heldout_set_covers_every_trained_label() -> None:
    trained = {label for label, _ in TRAINING}
    counts = Counter(label for label, _ in HELDOUT)
    assert set(counts) == trained
    assert min(counts.values()) >= MIN_HELDOUT_EXAMPLES


def test_the_screen_knows_which_messages_answer_its_questions() -> None:
    """action_record_disclosures leaves a message to the form exactly when the form reads it."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    (mapping,) = domain["slots"]["screen_answer"]["mappings"]
    assert sorted(mapping["not_intent"]) == sorted(NOT_ANSWERS)


def test_every_faq_button_s_question_is_trained_for_its_answer() -> None:
    """A tapped topic button sends its question as text (actions/topics.py): it must get its answer."""
    trained = {normalise(text): label for label, text in TRAINING}
    for topic in TOPICS.values():
        if topic.label.startswith("faq/"):
            assert trained.get(normalise(topic.payload)) == topic.label, topic.title
