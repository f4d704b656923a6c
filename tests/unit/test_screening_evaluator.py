"""The screening evaluator: exhaustive and property-based checks of the safety rules.

The rule that matters most: nobody with a contraindication, an unclear answer or a "yes"
ends with `eligible`.
"""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.screening.evaluator import (
    UNCLEAR_PREFIX,
    Answer,
    Screening,
    evaluate,
    open_questions,
    record_answer,
)
from actions.screening.policy import Tier, default_policy

POLICY = default_policy()
FACTORS = [f.id for f in POLICY.factors]
QUESTIONS = [q.id for q in POLICY.questions]


def answer(screening: Screening, question_id: str, value: Answer) -> Screening:
    return record_answer(POLICY, screening, question_id, value)


def all_no(screening: Screening | None = None) -> Screening:
    screening = screening or Screening()
    for question in QUESTIONS:
        screening = answer(screening, question, Answer.NO)
    return screening


def test_all_no_is_eligible() -> None:
    outcome = evaluate(POLICY, all_no())
    assert outcome.tier == Tier.ELIGIBLE and outcome.reasons == ()


def test_nothing_answered_is_undecided() -> None:
    assert evaluate(POLICY, Screening()).tier is None
    assert open_questions(POLICY, Screening()) == QUESTIONS


@pytest.mark.parametrize("factor_id", FACTORS)
def test_each_factor_alone_gives_its_tier_even_after_all_no(factor_id: str) -> None:
    factor = POLICY.factor(factor_id)
    for screening in (Screening(), all_no()):
        outcome = evaluate(POLICY, screening.with_findings(present=[factor_id]))
        assert outcome.tier == factor.tier
        assert factor_id in outcome.reasons


@pytest.mark.parametrize(("first", "second"), list(combinations(FACTORS, 2)))
def test_each_pair_of_factors_gives_the_more_cautious_tier(first: str, second: str) -> None:
    outcome = evaluate(POLICY, all_no().with_findings(present=[first, second]))
    assert outcome.tier == max(POLICY.factor(first).tier, POLICY.factor(second).tier)
    assert {first, second} <= set(outcome.reasons)


@pytest.mark.parametrize("question_id", QUESTIONS)
def test_a_plain_yes_counts_every_condition_the_question_asked_about(question_id: str) -> None:
    question = POLICY.question(question_id)
    outcome = evaluate(POLICY, all_no(answer(Screening(), question_id, Answer.YES)))
    assert outcome.tier == question.tier
    assert set(outcome.reasons) == {f.id for f in question.factors if f.asked_by_question}


@pytest.mark.parametrize("question_id", QUESTIONS)
def test_an_unclear_answer_goes_to_a_clinician(question_id: str) -> None:
    outcome = evaluate(POLICY, all_no(answer(Screening(), question_id, Answer.UNCLEAR)))
    assert outcome.tier == Tier.CLINICIAN_REVIEW
    assert outcome.reasons == (UNCLEAR_PREFIX + question_id,)


@pytest.mark.parametrize("question_id", QUESTIONS)
def test_one_question_left_unanswered_is_not_eligible(question_id: str) -> None:
    screening = Screening()
    for other in QUESTIONS:
        if other != question_id:
            screening = answer(screening, other, Answer.NO)
    assert evaluate(POLICY, screening).tier is None
    assert open_questions(POLICY, screening) == [question_id]


def test_a_named_condition_replaces_the_whole_question() -> None:
    screening = answer(Screening().with_findings(present=["breastfeeding"]), "pregnancy", Answer.YES)
    assert evaluate(POLICY, screening).reasons == ("breastfeeding",)


def test_a_plain_yes_leaves_out_conditions_already_denied() -> None:
    screening = answer(Screening().with_findings(absent=["pregnancy"]), "pregnancy", Answer.YES)
    assert evaluate(POLICY, screening).reasons == ("breastfeeding",)


def test_not_suitable_stops_the_questions_at_once() -> None:
    screening = Screening().with_findings(present=["pregnancy"])
    assert open_questions(POLICY, screening) == []


def test_denied_conditions_skip_their_question() -> None:
    screening = Screening().with_findings(absent=["pregnancy", "breastfeeding"])
    assert "pregnancy" not in open_questions(POLICY, screening)
    assert evaluate(POLICY, all_no_except(screening, "pregnancy")).tier == Tier.ELIGIBLE


def all_no_except(screening: Screening, skipped: str) -> Screening:
    for question in QUESTIONS:
        if question != skipped:
            screening = answer(screening, question, Answer.NO)
    return screening


def test_clinician_review_keeps_asking_so_the_clinician_sees_everything() -> None:
    screening = Screening().with_findings(present=["isotretinoin"])
    assert evaluate(POLICY, screening).tier == Tier.CLINICIAN_REVIEW
    assert "pregnancy" in open_questions(POLICY, screening)


def test_a_later_no_never_undoes_a_yes_or_a_disclosure() -> None:
    screening = answer(answer(Screening(), "pregnancy", Answer.YES), "pregnancy", Answer.NO)
    assert evaluate(POLICY, screening).tier == Tier.NOT_SUITABLE
    screening = Screening().with_findings(present=["pregnancy"]).with_findings(absent=["pregnancy"])
    assert "pregnancy" in screening.present and "pregnancy" not in screening.absent


def test_screening_survives_the_round_trip_through_a_slot() -> None:
    screening = all_no().with_findings(present=["melasma"], absent=["pregnancy"])
    assert Screening.from_slot(screening.to_slot()) == screening


# --- Property-based: random conversations -------------------------------------------------

steps = st.one_of(
    st.tuples(st.just("present"), st.sampled_from(FACTORS)),
    st.tuples(st.just("absent"), st.sampled_from(FACTORS)),
    st.tuples(st.sampled_from(QUESTIONS), st.sampled_from(list(Answer))),
)


def apply(screening: Screening, step: tuple[str, object]) -> Screening:
    kind, value = step
    if kind == "present":
        return screening.with_findings(present=[value])
    if kind == "absent":
        return screening.with_findings(absent=[value])
    return answer(screening, kind, value)


@settings(max_examples=600, deadline=None)
@given(st.lists(steps, max_size=30))
def test_nobody_with_a_contraindication_or_doubt_is_eligible(conversation: list) -> None:
    screening = Screening()
    for step in conversation:
        screening = apply(screening, step)
    outcome = evaluate(POLICY, screening)
    flagged = bool(screening.present) or any(a != Answer.NO for a in screening.answers.values())
    if flagged:
        assert outcome.tier not in (Tier.ELIGIBLE, None)
    if outcome.tier == Tier.ELIGIBLE:
        assert not screening.present and outcome.reasons == ()


@settings(max_examples=600, deadline=None)
@given(st.lists(steps, max_size=30), st.lists(steps, min_size=1, max_size=10))
def test_later_messages_only_move_the_outcome_away_from_eligible(before: list, after: list) -> None:
    screening = Screening()
    for step in before:
        screening = apply(screening, step)
    first = evaluate(POLICY, screening).tier
    for step in after:
        screening = apply(screening, step)
    later = evaluate(POLICY, screening).tier
    if first is not None and first != Tier.ELIGIBLE:
        assert later is not None and later >= first
    if first == Tier.ELIGIBLE:
        assert later is not None and later >= Tier.ELIGIBLE
