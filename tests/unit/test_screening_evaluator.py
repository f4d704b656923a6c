"""The screening evaluator: exhaustive and property-based checks of the safety rules.

The rule that matters most: nobody with a contraindication, a doubt, or a reading nobody
confirmed ends with `eligible`.
"""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.screening.evaluator import UNCLEAR_PREFIX, Prompt, Screening, Status, evaluate, next_prompt
from actions.screening.policy import Tier, default_policy

POLICY = default_policy()
FACTORS = [f.id for f in POLICY.factors]
QUESTIONS = [q.id for q in POLICY.questions]
ASKED = [f.id for q in POLICY.questions for f in q.asked]


def all_no(screening: Screening | None = None) -> Screening:
    return (screening or Screening()).with_status(ASKED, Status.ABSENT)


def test_all_no_is_eligible() -> None:
    outcome = evaluate(POLICY, all_no())
    assert outcome.tier == Tier.ELIGIBLE and outcome.reasons == ()
    assert next_prompt(POLICY, all_no()) is None


def test_nothing_answered_is_undecided_and_asks_the_first_question_whole() -> None:
    assert evaluate(POLICY, Screening()).tier is None
    first = POLICY.questions[0]
    assert next_prompt(POLICY, Screening()) == Prompt(tuple(f.id for f in first.asked), first.id)


@pytest.mark.parametrize("factor_id", FACTORS)
def test_each_factor_alone_gives_its_tier_even_after_all_no(factor_id: str) -> None:
    factor = POLICY.factor(factor_id)
    for screening in (Screening(), all_no()):
        outcome = evaluate(POLICY, screening.with_status([factor_id], Status.PRESENT))
        assert outcome.tier == factor.tier
        assert factor_id in outcome.reasons


@pytest.mark.parametrize(("first", "second"), list(combinations(FACTORS, 2)))
def test_each_pair_of_factors_gives_the_more_cautious_tier(first: str, second: str) -> None:
    outcome = evaluate(POLICY, all_no().with_status([first, second], Status.PRESENT))
    assert outcome.tier == max(POLICY.factor(first).tier, POLICY.factor(second).tier)
    assert {first, second} <= set(outcome.reasons)


@pytest.mark.parametrize("status", [Status.UNSURE, Status.PENDING])
@pytest.mark.parametrize("factor_id", FACTORS)
def test_a_doubt_goes_to_a_clinician_never_eligible(factor_id: str, status: Status) -> None:
    outcome = evaluate(POLICY, all_no().with_status([factor_id], status))
    assert outcome.tier == Tier.CLINICIAN_REVIEW
    assert outcome.reasons == (UNCLEAR_PREFIX + factor_id,)


@pytest.mark.parametrize("factor_id", ASKED)
def test_one_condition_left_unknown_is_not_eligible_and_is_asked_alone(factor_id: str) -> None:
    screening = Screening().with_status([f for f in ASKED if f != factor_id], Status.ABSENT)
    assert evaluate(POLICY, screening).tier is None
    prompt = next_prompt(POLICY, screening)
    assert prompt is not None and prompt.factors == (factor_id,)


@pytest.mark.parametrize("factor_id", FACTORS)
def test_a_pending_doubt_is_confirmed_before_anything_else(factor_id: str) -> None:
    prompt = next_prompt(POLICY, Screening().with_status([factor_id], Status.PENDING))
    assert prompt == Prompt((factor_id,))


def test_not_suitable_stops_the_questions_at_once() -> None:
    assert next_prompt(POLICY, Screening().with_status(["pregnancy"], Status.PRESENT)) is None


def test_clinician_review_keeps_asking_so_the_clinician_sees_everything() -> None:
    screening = Screening().with_status(["isotretinoin"], Status.PRESENT)
    assert evaluate(POLICY, screening).tier == Tier.CLINICIAN_REVIEW
    assert next_prompt(POLICY, screening).question == "pregnancy"


@pytest.mark.parametrize(
    ("earlier", "after_a_no"),
    [(Status.PRESENT, Status.PRESENT), (Status.UNSURE, Status.UNSURE), (Status.PENDING, Status.ABSENT)],
)
def test_a_later_no_never_undoes_a_yes_or_a_doubt_but_settles_a_pending_one(
    earlier: Status, after_a_no: Status
) -> None:
    screening = Screening().with_status(["pregnancy"], earlier).with_status(["pregnancy"], Status.ABSENT)
    assert screening.status("pregnancy") == after_a_no


def test_screening_survives_the_round_trip_through_a_slot() -> None:
    screening = all_no().with_status(["melasma"], Status.PRESENT, "melasma").with_prompt(Prompt(("cancer",), "x"))
    assert Screening.from_slot(screening.to_slot()) == screening


# --- Property-based: random conversations -------------------------------------------------

# A conversation step: a status for some factors. A clear "no" (ABSENT) is the only step that
# can lift a doubt, and only a pending one (what a confirmation question is for).
steps = st.tuples(st.lists(st.sampled_from(FACTORS), min_size=1, max_size=4), st.sampled_from(list(Status)))


def having(screening: Screening, *statuses: Status) -> set[str]:
    return {f for f, s in screening.statuses.items() if s in statuses}


def apply(screening: Screening, step: tuple[list[str], Status]) -> Screening:
    factors, status = step
    return screening.with_status(factors, status)


@settings(max_examples=600, deadline=None)
@given(st.lists(steps, max_size=30))
def test_nobody_with_a_contraindication_or_doubt_is_eligible(conversation: list) -> None:
    screening = Screening()
    for step in conversation:
        screening = apply(screening, step)
    outcome = evaluate(POLICY, screening)
    flagged = having(screening, Status.PRESENT, Status.UNSURE, Status.PENDING)
    if flagged:
        assert outcome.tier in (Tier.CLINICIAN_REVIEW, Tier.NOT_SUITABLE)
    else:
        assert outcome.tier in (Tier.ELIGIBLE, None)
    assert (outcome.tier == Tier.ELIGIBLE) == (not flagged and set(ASKED) <= having(screening, Status.ABSENT))


@settings(max_examples=600, deadline=None)
@given(st.lists(steps, max_size=30), st.lists(steps, min_size=1, max_size=10))
def test_later_answers_only_move_the_outcome_away_from_eligible(before: list, after: list) -> None:
    """Without a confirmation lifting a pending doubt, the outcome never becomes less cautious."""
    screening = Screening()
    for step in before:
        screening = apply(screening, step)
    first = evaluate(POLICY, screening).tier
    had_pending = having(screening, Status.PENDING)
    for step in after:
        screening = apply(screening, step)
    later = evaluate(POLICY, screening).tier
    if first in (Tier.CLINICIAN_REVIEW, Tier.NOT_SUITABLE) and not had_pending:
        assert later is not None and later >= first
    if first == Tier.ELIGIBLE:
        assert later != Tier.ELIGIBLE or not having(screening, Status.PRESENT, Status.UNSURE, Status.PENDING)
        assert later is not None
