"""What the visitor reads about the screen: kind, clear, honest and never a false green light."""

from __future__ import annotations

from itertools import combinations

import pytest

from actions.screening.evaluator import Prompt, Screening, Status, evaluate
from actions.screening.messages import BUBBLE_LIMIT, CONSENT_REQUEST, NO_CONSENT, outcome_reply, prompt_text
from actions.screening.policy import Tier, default_policy
from actions.topics import WHATSAPP_BUTTON_LIMIT, WHATSAPP_BUTTON_TITLE_LIMIT

POLICY = default_policy()
GREEN_LIGHT = ("nothing on our list rules out", "good candidate", "would you like to book one")
ASKED = [f.id for q in POLICY.questions for f in q.asked]


def _all_no() -> Screening:
    return Screening().with_status(ASKED, Status.ABSENT)


def outcomes():
    yield evaluate(POLICY, _all_no())
    for factor in POLICY.factors:
        yield evaluate(POLICY, Screening().with_status([factor.id], Status.PRESENT))
        yield evaluate(POLICY, _all_no().with_status([factor.id], Status.UNSURE))
        yield evaluate(POLICY, _all_no().with_status([factor.id], Status.PENDING))
    for first, second in combinations([f.id for f in POLICY.factors], 2):
        yield evaluate(POLICY, Screening().with_status([first, second], Status.PRESENT))


OUTCOMES = list(outcomes())


def test_every_outcome_says_it_is_not_a_diagnosis() -> None:
    for outcome in OUTCOMES:
        assert "not a diagnosis" in " ".join(outcome_reply(outcome).texts)


def test_only_eligible_visitors_hear_a_green_light() -> None:
    for outcome in OUTCOMES:
        text = " ".join(outcome_reply(outcome).texts).lower()
        green = any(phrase in text for phrase in GREEN_LIGHT)
        assert green == (outcome.tier == Tier.ELIGIBLE), outcome.reasons


def test_not_suitable_gives_each_reason_and_no_laser_booking() -> None:
    for outcome in OUTCOMES:
        if outcome.tier != Tier.NOT_SUITABLE:
            continue
        reply = outcome_reply(outcome)
        text = " ".join(reply.texts)
        for factor in outcome.factors:
            assert factor.explanation in text
        assert "/book_consultation" not in [b["payload"] for b in reply.buttons]
        if outcome.temporary:
            assert "come back" in text


def test_clinician_review_offers_a_flagged_consultation_or_a_call() -> None:
    reply = outcome_reply(evaluate(POLICY, Screening().with_status(["isotretinoin"], Status.PRESENT)))
    assert "flagged for a clinician" in " ".join(reply.texts)
    assert [b["payload"] for b in reply.buttons] == ["/book_consultation", "/human_handoff"]


@pytest.mark.parametrize("reply", [outcome_reply(o) for o in OUTCOMES] + [NO_CONSENT], ids=lambda r: r.texts[0][:30])
def test_replies_fit_chat_bubbles_and_whatsapp_buttons(reply) -> None:
    assert all(len(text) <= BUBBLE_LIMIT for text in reply.texts)
    assert len(reply.buttons) <= WHATSAPP_BUTTON_LIMIT
    assert all(len(b["title"]) <= WHATSAPP_BUTTON_TITLE_LIMIT for b in reply.buttons)


def test_consent_request_says_why_who_keeps_it_and_that_it_is_optional() -> None:
    text = CONSENT_REQUEST.lower()
    assert "clinicians" in text and "not a diagnosis" in text and "stop at any time" in text
    assert text.rstrip().endswith("do you agree to answer health questions?")


def test_a_whole_question_keeps_its_number_when_asked_again() -> None:
    question = POLICY.questions[3]
    prompt = Prompt(tuple(f.id for f in question.asked), question.id)
    assert prompt_text(POLICY, Screening(), prompt) == f"4/{len(POLICY.questions)}: {question.text}"


def test_a_question_asks_only_for_what_is_still_unknown() -> None:
    screening = Screening().with_status(["cancer_history"], Status.PRESENT, "melanoma")
    prompt = Prompt(("cancer", "diabetes", "severe_hypertension"), "serious_conditions")
    assert prompt_text(POLICY, screening, prompt) == (
        "2/8: Apart from the melanoma you mentioned, do you have cancer, diabetes, or severe high blood pressure?"
    )
    screening = screening.with_status(["isotretinoin"], Status.PRESENT, "roaccutane")
    left = Prompt(("anticoagulants", "gold_therapy"), "medicines")
    assert prompt_text(POLICY, screening, left) == (
        "6/8: Apart from the roaccutane you mentioned, do you take, or have you taken, blood thinners or "
        "gold injections (ever)?"
    )


def test_a_doubt_is_confirmed_with_one_short_question() -> None:
    assert (
        prompt_text(POLICY, Screening(), Prompt(("breastfeeding",)))
        == "Just to check: are you breastfeeding at the moment?"
    )
