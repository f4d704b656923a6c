"""The issue's defects, one turn at a time, through the real pipeline and the core's `take_turn`."""

from __future__ import annotations

import pytest

from actions.screening.core import ask_next, general_facts
from actions.screening.evaluator import Screening, Status, evaluate, next_prompt
from actions.screening.messages import prompt_text
from actions.screening.policy import Tier, default_policy
from tests.screening.reader import read, turn

POLICY = default_policy()


def converse(*replies: str, intent: str | None = None) -> tuple[Screening, list[str]]:
    """Runs the screen: each reply answers the question asked before it. Returns the asked texts too."""
    screening, asked = Screening(), []
    for reply in replies:
        screening = ask_next(POLICY, screening)
        asked.append(prompt_text(POLICY, screening, screening.prompt) if screening.prompt else "")
        screening = turn(reply, screening, intent=intent, answering=screening.prompt is not None).screening
    return screening, asked


def finish_with_no(screening: Screening) -> Screening:
    while (screening := ask_next(POLICY, screening)).prompt is not None:
        screening = turn("no", screening, answering=True).screening
    return screening


@pytest.mark.parametrize(
    "reply", ["no i get cold sores sometimes", "No I get cold sores sometimes.", "nope i get coldsores now and then"]
)
def test_a_leading_no_does_not_swallow_a_disclosure(reply: str) -> None:
    screening, _ = converse("no", "no", "no", reply)
    assert screening.status("cold_sore_history") == Status.PRESENT
    final = evaluate(POLICY, finish_with_no(screening))
    assert final.tier == Tier.CLINICIAN_REVIEW and final.reasons == ("cold_sore_history",)


@pytest.mark.parametrize(
    "reply",
    ["I don't have cancer anymore", "not anymore, I had breast cancer", "no longer have cancer",
     "i used to have cancer", "the cancer is gone now", "I had melanoma but I'm in remission"],
)  # fmt: skip
def test_cancer_that_is_over_is_past_cancer_for_a_clinician(reply: str) -> None:
    final = evaluate(POLICY, finish_with_no(converse("no", reply)[0]))
    assert final.tier == Tier.CLINICIAN_REVIEW and final.reasons == ("cancer_history",)


@pytest.mark.parametrize("said", ["I had melanoma 8 years ago", "I had gestational diabetes years ago"])
def test_the_rest_of_a_question_is_still_asked(said: str) -> None:
    screening, _ = converse("no", said)
    screening = ask_next(POLICY, screening)
    text = prompt_text(POLICY, screening, screening.prompt)
    assert text.startswith("2/8: Apart from the ") and "diabetes" in text and "blood pressure" in text
    screening = turn("yes", screening, answering=True).screening
    assert evaluate(POLICY, screening).tier == Tier.NOT_SUITABLE


@pytest.mark.parametrize(
    "question",
    ["can i tan before my laser", "is it sore like a sunburn after", "does it help my acne", "what if I'm pregnant?",
     "is it safe while breastfeeding?", "do you treat people with diabetes?", "Can I have it if I have eczema?"],
)  # fmt: skip
def test_questions_are_recorded_as_nothing(question: str) -> None:
    result = turn(question, intent="faq")
    assert result.screening == Screening() and result.outcome.tier is None


def test_a_question_about_a_contraindication_gets_the_fact() -> None:
    assert [f.id for f in general_facts(POLICY, read("what if I'm pregnant?"))] == ["pregnancy"]
    assert [f.id for f in general_facts(POLICY, read("is it safe with a cold sore?"))] == ["active_cold_sore"]
    assert general_facts(POLICY, read("does it hurt?")) == ()
    assert general_facts(POLICY, read("I'm pregnant")) == (), "a disclosure is announced, not told as a fact"


@pytest.mark.parametrize(
    "hedged", ["I think I might be breastfeeding", "maybe breastfeeding, not sure", "i could be pregnant"]
)
def test_an_uncertain_reading_is_confirmed_not_decided(hedged: str) -> None:
    screening = turn(hedged).screening
    prompt = next_prompt(POLICY, screening)
    assert prompt is not None and prompt.question is None  # a "Just to check" confirmation
    assert prompt_text(POLICY, screening, prompt).startswith("Just to check: are you ")
    everything_else = [f.id for q in POLICY.questions for f in q.asked if f.id not in prompt.factors]
    unconfirmed = evaluate(POLICY, screening.with_status(everything_else, Status.ABSENT))
    assert unconfirmed.tier == Tier.CLINICIAN_REVIEW
    confirmed_no = finish_with_no(screening)
    assert evaluate(POLICY, confirmed_no).tier == Tier.ELIGIBLE


def test_a_family_history_that_counts_is_recorded() -> None:
    assert turn("hi, my mum has vitiligo").outcome.reasons == ("vitiligo_family",)


@pytest.mark.parametrize("reply", ["no, but my husband has diabetes", "diabetes? not me, my husband"])
def test_a_no_with_someone_elses_condition_leaves_each_factor_to_ask(reply: str) -> None:
    screening, _ = converse("no", reply)
    asked = ["cancer", "diabetes", "severe_hypertension"]
    assert {screening.status(f) for f in asked} == {Status.PENDING}
    follow_up = ask_next(POLICY, screening)
    assert prompt_text(POLICY, follow_up, follow_up.prompt) == "Just to check: do you have cancer?"
    assert evaluate(POLICY, finish_with_no(screening)).tier == Tier.ELIGIBLE


def test_a_no_then_a_condition_of_ones_own_records_it() -> None:
    screening, _ = converse("no", "no", "not really, just mild eczema")
    assert screening.status("dermatosis") == Status.PRESENT


def test_a_side_question_during_the_screen_keeps_the_question() -> None:
    screening = ask_next(POLICY, Screening())
    result = turn("how long is the downtime?", screening, intent="faq", answering=True).screening
    assert result.statuses == screening.statuses and result.prompt.asks_as(screening.prompt)


def test_a_no_with_a_question_is_asked_again_after_the_answer() -> None:
    screening = ask_next(POLICY, Screening())
    result = turn("no, but does it hurt?", screening, intent="faq", answering=True).screening
    assert result.statuses == screening.statuses, "its 'no' is not taken: the question is asked again after the answer"
    assert result.prompt.asks_as(screening.prompt)


def test_an_unreadable_answer_is_asked_about_each_factor_then_goes_to_a_clinician() -> None:
    screening = ask_next(POLICY, Screening())
    first = turn("banana", screening, answering=True).screening
    assert {first.status("pregnancy"), first.status("breastfeeding")} == {Status.PENDING}
    follow_up = ask_next(POLICY, first)
    assert follow_up.prompt.factors == ("pregnancy",) and follow_up.prompt.question is None
    second = turn("banana again", follow_up, answering=True).screening
    assert second.status("pregnancy") == Status.UNSURE
    assert evaluate(POLICY, finish_with_no(second)).tier == Tier.CLINICIAN_REVIEW


@pytest.mark.parametrize(
    ("reply", "status"), [("N", Status.ABSENT), ("prob not", Status.UNSURE), ("nah", Status.ABSENT)]
)
def test_whatsapp_short_replies(reply: str, status: Status) -> None:
    screening, _ = converse(reply)
    assert {screening.status("pregnancy"), screening.status("breastfeeding")} == {status}


def test_slang_for_pregnancy_names_it() -> None:
    assert turn("ya 14 wks preg", ask_next(POLICY, Screening()), answering=True).outcome.reasons == ("pregnancy",)
