"""The screen's language layer on thousands of phrasings, through production code.

Safety properties (see corpus.py): an own current or recurrent condition is never read as
absent or missed; a question, a hypothetical or someone else's condition is never read as
present; doubt is never a "no"; a denial is never read as present.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.screening.core import TOLD_LATER
from actions.screening.policy import default_policy
from tests.screening.corpus import TEMPLATES, misreading, policy_terms, run, ways_for

MINIMUM_SIZE = 2000


def test_the_template_corpus_is_read_safely() -> None:
    size, wrong = run()
    assert size >= MINIMUM_SIZE
    assert [f"{p.text!r} ({p.way}): {problem}" for p, problem in wrong] == []


# --- Hypothesis: further phrasings composed from the same fragments -------------------------

OPENERS = ["", "hi, ", "ok so ", "Hello! ", "um ", "quick one: ", "thanks. "]
CLOSERS = ["", ".", "!", " lol", " thanks", ", does it hurt?", ". how much is it?", " x"]
TERMS = sorted((term_id, term) for term_id, terms in policy_terms().items() for term in terms)


@st.composite
def phrasing(draw: st.DrawFn) -> tuple[str, str, str]:
    term_id, term = draw(st.sampled_from(TERMS))
    way = draw(st.sampled_from(ways_for(term_id, term)))
    text = draw(st.sampled_from(OPENERS)) + draw(st.sampled_from(TEMPLATES[way])).format(t=term)
    text += draw(st.sampled_from(CLOSERS))
    case = draw(st.sampled_from([str, str.lower, str.upper, str.capitalize]))
    return case(text), term_id, way


@settings(max_examples=1500, deadline=None)
@given(phrasing())
def test_composed_phrasings_are_read_safely(example: tuple[str, str, str]) -> None:
    text, term_id, way = example
    assert misreading(text, term_id, way) is None, text


# --- Phrasings written blind to the rules ----------------------------------------------------

BLIND = yaml.safe_load((Path(__file__).with_name("visitor_phrasings.yml")).read_text(encoding="utf-8"))["phrasings"]
# The blind set's readings, as the corpus names them. Someone else's condition is checked like a
# family member's: a family history of vitiligo counts for the visitor by policy.
AS_WAY = {"someone_else": "family"}
COVERAGE_FLOOR = 0.9  # a missed mention is asked about by the screen's questions; a wrong reading isn't


def blind_problems() -> list[tuple[dict, str]]:
    return [
        (p, problem)
        for p in BLIND
        if (problem := misreading(p["text"], p["term"], AS_WAY.get(p["reading"], p["reading"])))
    ]


def test_blind_phrasings_are_never_read_the_wrong_way() -> None:
    wrong = [f"{p['text']!r} ({p['reading']}): {problem}" for p, problem in blind_problems() if "missed" not in problem]
    assert wrong == []


def test_blind_phrasings_are_mostly_found() -> None:
    missed = [p["text"] for p, problem in blind_problems() if "missed" in problem]
    own = [p for p in BLIND if p["reading"] in ("own_current", "own_recurrent")]
    assert 1 - len(missed) / len(own) >= COVERAGE_FLOOR, missed


def test_the_blind_set_covers_every_way_of_saying_it() -> None:
    readings = {p["reading"] for p in BLIND}
    assert readings == {
        "own_current",
        "own_recurrent",
        "own_past",
        "ended",
        "denied",
        "doubt",
        "question",
        "someone_else",
    }
    assert len(BLIND) >= 300


@pytest.mark.parametrize("factor", default_policy().factors, ids=lambda f: f.id)
def test_every_factor_is_in_the_corpus(factor) -> None:
    if factor.id == TOLD_LATER:
        return  # no words mean it: what a visitor adds after the outcome that the screen can't read
    terms = policy_terms()
    assert any(m.value in terms for m in factor.matches), f"no pattern term means {factor.id}"
