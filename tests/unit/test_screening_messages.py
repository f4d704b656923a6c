"""What the visitor reads about the screen: kind, clear, honest and never a false green light."""

from __future__ import annotations

from itertools import combinations

import pytest

from actions.screening.evaluator import Answer, Screening, evaluate, record_answer
from actions.screening.messages import BUBBLE_LIMIT, CONSENT_REQUEST, NO_CONSENT, outcome_reply
from actions.screening.policy import Tier, default_policy
from actions.topics import WHATSAPP_BUTTON_LIMIT, WHATSAPP_BUTTON_TITLE_LIMIT

POLICY = default_policy()
GREEN_LIGHT = ("nothing on our list rules out", "good candidate", "would you like to book one")


def outcomes():
    yield evaluate(POLICY, _all_no())
    for factor in POLICY.factors:
        yield evaluate(POLICY, Screening().with_findings(present=[factor.id]))
    for first, second in combinations([f.id for f in POLICY.factors], 2):
        yield evaluate(POLICY, Screening().with_findings(present=[first, second]))
    for question in POLICY.questions:
        yield evaluate(POLICY, record_answer(POLICY, _all_no(), question.id, Answer.UNCLEAR))
        yield evaluate(POLICY, record_answer(POLICY, Screening(), question.id, Answer.YES))


def _all_no() -> Screening:
    screening = Screening()
    for question in POLICY.questions:
        screening = screening.with_answer(question.id, Answer.NO)
    return screening


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
    reply = outcome_reply(evaluate(POLICY, Screening().with_findings(present=["isotretinoin"])))
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
