"""The clinic's spaCy pipeline tags clinical terms the way visitors write them."""

from __future__ import annotations

from collections import defaultdict

import pytest
import yaml

from nlp.build_pipeline import PATTERNS_DIR, build, load_patterns
from nlp.text import normalise


@pytest.fixture(scope="module")
def nlp():
    return build(load_patterns())


def found(nlp, text: str) -> list[tuple[str, str]]:
    return [(ent.label_, ent.ent_id_) for ent in nlp(normalise(text)).ents]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm on roaccutane", ("MEDICATION", "isotretinoin")),
        ("i take roacutane for my skin", ("MEDICATION", "isotretinoin")),
        ("yes I'm 12 weeks pregnant", ("CONDITION", "pregnancy")),
        ("im pregant", ("CONDITION", "pregnancy")),
        ("my mum has vitiligo", ("CONDITION", "vitiligo")),
        ("I get cold sores a few times a year", ("CONDITION", "cold_sores")),
        ("I had melanoma 8 years ago", ("CONDITION", "cancer")),
        ("Type 2 Diabetic here", ("CONDITION", "diabetes")),
        ("i have high blood pressure", ("CONDITION", "hypertension")),
        ("psoraisis on my elbows", ("CONDITION", "psoriasis")),
        ("I take warfarin", ("MEDICATION", "anticoagulant")),
        ("will it fix my acne scars", ("SKIN_CONCERN", "acne_scars")),
        ("stretch marks after pregnancy", ("SKIN_CONCERN", "stretch_marks")),
        ("crow’s feet", ("SKIN_CONCERN", "wrinkles")),
        ("can you do my DÉCOLLETÉ", ("BODY_AREA", "decollete")),
    ],
)
def test_terms_are_tagged_with_their_canonical_id(nlp, text: str, expected: tuple[str, str]) -> None:
    assert expected in found(nlp, text)


@pytest.mark.parametrize(
    "text",
    [
        "come back next week",
        "I'm expecting your call",
        "how much does it cost",
        "can I book for saturday morning",
        "is the sun bad for me afterwards",
    ],
)
def test_ordinary_sentences_have_no_clinical_terms(nlp, text: str) -> None:
    assert found(nlp, text) == []


def test_every_term_belongs_to_exactly_one_entry() -> None:
    owners = defaultdict(set)
    for path in PATTERNS_DIR.glob("*.yml"):
        spec = yaml.safe_load(path.read_text())
        for entry in spec["entries"]:
            for term in entry["terms"]:
                owners[str(term).lower()].add(entry["id"])
    clashes = {term: ids for term, ids in owners.items() if len(ids) > 1}
    assert clashes == {}
