"""The spaCy context rules on their own: negation, whose condition, and when."""

from __future__ import annotations

import pytest

from nlp.build_pipeline import build, load_patterns


@pytest.fixture(scope="module")
def nlp():
    return build(load_patterns())


def context(nlp, text: str) -> dict[str, tuple[bool, str, str]]:
    return {ent.ent_id_: (ent._.negated, ent._.who, ent._.when) for ent in nlp(text).ents}


@pytest.mark.parametrize(
    ("text", "term", "expected"),
    [
        # negation
        ("I'm not pregnant", "pregnancy", (True, "self", "current")),
        ("no i am not preggers", "pregnancy", (True, "self", "current")),
        ("never had cold sores", "cold_sores", (True, "self", "past")),
        ("I don't have diabetes, cancer or psoriasis", "psoriasis", (True, "self", "current")),
        ("no diabetes and no cancer", "cancer", (True, "self", "current")),
        ("I'm not on any blood thinners", "anticoagulant", (True, "self", "current")),
        ("pregnant? no", "pregnancy", (True, "self", "current")),
        ("diabetes - none", "diabetes", (True, "self", "current")),
        # a "no" that answers the question is not a negation of what follows
        ("no, I have diabetes", "diabetes", (False, "self", "current")),
        ("I'm not pregnant but I'm breastfeeding", "breastfeeding", (False, "self", "current")),
        ("pregnant no, breastfeeding yes", "breastfeeding", (False, "self", "current")),
        ("I'm not pregnant and I have cancer", "cancer", (False, "self", "current")),
        # doubt is never a denial
        ("I'm not sure if I'm pregnant", "pregnancy", (False, "self", "current")),
        ("no idea if i have psoriasis", "psoriasis", (False, "self", "current")),
        # whose
        ("my mum has vitiligo", "vitiligo", (False, "family", "current")),
        ("vitiligo runs in my family", "vitiligo", (False, "family", "current")),
        ("my sister has diabetes", "diabetes", (False, "family", "current")),
        ("my sister and I both have diabetes", "diabetes", (False, "self", "current")),
        ("my husband is diabetic", "diabetes", (False, "other", "current")),
        ("is it safe for pregnant women?", "pregnancy", (False, "other", "current")),
        # when
        ("yes I'm 12 weeks pregnant", "pregnancy", (False, "self", "current")),
        ("I had melanoma 8 years ago, in remission", "cancer", (False, "self", "past")),
        ("I get cold sores a few times a year, none right now", "cold_sores", (False, "self", "recurrent")),
        ("I had a baby 3 months ago and I'm breastfeeding", "breastfeeding", (False, "self", "current")),
        ("I stopped accutane last year", "isotretinoin", (False, "self", "past")),
        ("I'm on roaccutane", "isotretinoin", (False, "self", "current")),
        ("i had a cold sore 2 weeks ago", "cold_sores", (False, "self", "past")),
        # misspellings reach the same term
        ("im pregant", "pregnancy", (False, "self", "current")),
        ("i hav psoraisis", "psoriasis", (False, "self", "current")),
        ("taking roacutane", "isotretinoin", (False, "self", "current")),
    ],
)
def test_context_of_a_term(nlp, text: str, term: str, expected: tuple[bool, str, str]) -> None:
    assert context(nlp, text)[term] == expected
