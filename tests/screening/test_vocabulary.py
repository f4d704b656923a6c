"""The words visitors used in the conversations that found the last round's failures (issue 19),
each read by the real pipeline into the outcome a clinician expects."""

from __future__ import annotations

import pytest

from actions.screening.evaluator import Screening, Status, evaluate
from actions.screening.policy import Tier, default_policy
from tests.screening.reader import turn

POLICY = default_policy()


@pytest.mark.parametrize(
    ("message", "factor"),
    [
        ("I have type 2", "diabetes"),
        ("my T2 is diet controlled", "diabetes"),
        ("I check my sugars every morning", "diabetes"),
        ("I inject insulin with every meal", "diabetes"),
        ("I take metformin", "diabetes"),
        ("I'm on semaglutide", "diabetes"),
        ("on Ozempic since March", "diabetes"),
        ("I'm on ramipril, it's well controlled", "severe_hypertension"),
        ("still bf'ing my lo 🤱 shes 5mo", "breastfeeding"),
        ("nursing my lo", "breastfeeding"),
        ("c sore on my lip rn 😩", "active_cold_sore"),
        ("cold sore rn", "active_cold_sore"),
        ("I'm on tamoxifen", "cancer_history"),
        ("I take letrozole", "cancer_history"),
        ("there's a mole on my cheek that's changed shape and gone darker lately", "mole_mentioned"),
        ("my mole has grown", "suspicious_lesion"),
        ("I had sunbeds until a fortnight ago", "recent_tan"),
        ("I stopped going on sunbeds 3 weeks ago", "recent_tan"),
        ("I got burnt at the beach last weekend", "recent_tan"),
        ("my eyebrow piercing is infected", "skin_inflammation"),
        ("I have a defibrillator in my chest", "pacemaker"),
    ],
)
def test_said_in_their_own_words_is_recorded(message: str, factor: str) -> None:
    assert turn(message).screening.status(factor) == Status.PRESENT


@pytest.mark.parametrize(
    ("message", "factor"),
    [
        ("I had a sunbed tan last summer", "recent_tan"),
        ("I used sunbeds 2 years ago", "recent_tan"),
        ("I took roaccutane 5 years ago", "isotretinoin"),
        ("my stepdad has vitiligo but hes not my real dad", "vitiligo_family"),
        ("my mother-in-law has vitiligo", "vitiligo_family"),
        ("my adoptive mum has vitiligo", "vitiligo_family"),
        ("no, I'm pale and I burn rather than tan", "recent_tan"),
        ("I never tan", "recent_tan"),
        ("I'm not on insulin", "diabetes"),
        ("my sugars are fine", "diabetes"),
    ],
)
def test_what_does_not_count_is_not_recorded(message: str, factor: str) -> None:
    assert turn(message).screening.status(factor) in (None, Status.ABSENT)


def test_sunbeds_at_an_unstated_time_are_asked_about() -> None:
    assert turn("I used to go on sunbeds").screening.status("recent_tan") == Status.PENDING


def test_a_well_controlled_condition_is_still_present() -> None:
    outcome = evaluate(POLICY, turn("my diabetes is well controlled on metformin").screening)
    assert outcome.tier == Tier.NOT_SUITABLE and "diabetes" in outcome.reasons


def test_not_on_insulin_does_not_deny_diabetes() -> None:
    screening = turn("no not on insulin or anything my type 2 is diet controlled", Screening()).screening
    assert screening.status("diabetes") == Status.PRESENT
