"""The pre-screen end to end, as visitors meet it: real NLU, real actions, real tracker store.

Every contraindication in the clinic's documents is tried three ways: volunteered before any
question, disclosed late in free text, and answered with the buttons. None may end eligible.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from actions.screening.policy import default_policy
from tests.support import RunningAssistant

POLICY = default_policy()
QUESTION_ORDER = [q.id for q in POLICY.questions]


@dataclass(frozen=True)
class Case:
    factor: str
    volunteered: str
    question: str
    late: str


CLINIC_CONTRAINDICATIONS = [
    Case("pregnancy", "I'm 5 months pregnant, can I get the laser?", "pregnancy", "yes I'm 12 weeks pregnant"),
    Case("breastfeeding", "im breastfeeding my 4 month old, is laser ok for me?", "pregnancy", "I'm breastfeeding"),
    Case("cancer", "I have breast cancer, could I have this done?", "serious_conditions", "yes I have cancer"),
    Case("diabetes", "I'm diabetic, can I have it?", "serious_conditions", "i have type 2 diabetes"),
    Case(
        "severe_hypertension",
        "I have severe high blood pressure, can I do laser?",
        "serious_conditions",
        "yes, high blood pressure",
    ),
    Case("psoriasis", "I've got psoriasis on my face, can I have the laser?", "skin_conditions", "yes psoriasis"),
    Case("dermatosis", "I have eczema, would the laser be ok?", "skin_conditions", "yes I have eczema"),
    Case("active_cold_sore", "I have a cold sore right now, can I still come?", "active_skin", "yes a cold sore"),
    Case(
        "skin_inflammation", "I have a skin infection on my cheek, can I get laser?", "active_skin", "an infection yes"
    ),
    Case("keloid", "I get keloid scars, is laser safe for me?", "skin_conditions", "yes keloids"),
    Case("vitiligo_family", "my mum has vitiligo, can I have laser?", "skin_conditions", "my dad has vitiligo"),
]


def slots(assistant: RunningAssistant, visitor: str) -> dict:
    return assistant.tracker(visitor)["slots"]


def start(assistant: RunningAssistant, visitor: str) -> str:
    """Opens the screen and consents; returns the first question's text."""
    assert "Do you agree" in assistant.texts(visitor, "can you check if I'm suitable?")
    return assistant.texts(visitor, "/affirm")


def answer_no_until(assistant: RunningAssistant, visitor: str, question_id: str) -> None:
    for earlier in QUESTION_ORDER[: QUESTION_ORDER.index(question_id)]:
        assert "/8:" in assistant.texts(visitor, "no"), f"asked before {earlier}"


def no_to_follow_ups(assistant: RunningAssistant, visitor: str, reply: str) -> str:
    """Sends `reply`, then a plain no to each "Just to check" it leads to; the last answer."""
    answer = assistant.texts(visitor, reply)
    while "Just to check" in answer:
        answer = assistant.texts(visitor, "no")
    return answer


def assert_ruled_out(assistant: RunningAssistant, visitor: str, case: Case, reply: str) -> None:
    state = slots(assistant, visitor)
    assert state["screening_outcome"] == "not_suitable"
    assert case.factor in state["screening_reasons"]
    assert POLICY.factor(case.factor).explanation in reply
    assert "not a diagnosis" in reply and "/8:" not in reply


@pytest.mark.parametrize("case", CLINIC_CONTRAINDICATIONS, ids=lambda c: c.factor)
def test_volunteered_before_any_question(assistant: RunningAssistant, visitor: str, case: Case) -> None:
    assert_ruled_out(assistant, visitor, case, assistant.texts(visitor, case.volunteered))


@pytest.mark.parametrize("case", CLINIC_CONTRAINDICATIONS, ids=lambda c: c.factor)
def test_disclosed_late_in_free_text(assistant: RunningAssistant, visitor: str, case: Case) -> None:
    start(assistant, visitor)
    answer_no_until(assistant, visitor, case.question)
    assert_ruled_out(assistant, visitor, case, assistant.texts(visitor, case.late))


@pytest.mark.parametrize("question", sorted({c.question for c in CLINIC_CONTRAINDICATIONS}))
def test_yes_button_to_a_contraindication_question(assistant: RunningAssistant, visitor: str, question: str) -> None:
    start(assistant, visitor)
    answer_no_until(assistant, visitor, question)
    reply = assistant.texts(visitor, "/affirm")
    state = slots(assistant, visitor)
    assert state["screening_outcome"] == "not_suitable"
    assert set(state["screening_reasons"]) == {f.id for f in POLICY.question(question).factors if f.asked_by_question}
    assert "not a diagnosis" in reply


def test_healthy_visitor_reaches_booking_in_a_few_turns(assistant: RunningAssistant, visitor: str) -> None:
    first = start(assistant, visitor)
    assert first.startswith("1/8:")
    replies = [assistant.say(visitor, text) for text in ("no", "nope", "no I don't", "no", "never", "no", "no", "no")]
    final = replies[-1]
    assert slots(assistant, visitor)["screening_outcome"] == "eligible"
    assert "nothing on our list rules out" in final[0]["text"] and "not a diagnosis" in final[0]["text"]
    assert {"title": "Book consultation", "payload": "/book_consultation"} in final[-1]["buttons"]
    assert "What's your name?" in assistant.texts(visitor, "yes please"), "yes starts the booking"


def test_consent_is_recorded_with_its_time(assistant: RunningAssistant, visitor: str) -> None:
    start(assistant, visitor)
    state = slots(assistant, visitor)
    assert state["screening_consent"] is True and state["screening_consent_at"]


def test_no_consent_means_no_health_questions(assistant: RunningAssistant, visitor: str) -> None:
    assistant.texts(visitor, "am I a good candidate?")
    reply = assistant.texts(visitor, "/deny")
    assert "won't ask any health questions" in reply and "/8:" not in reply
    assert slots(assistant, visitor)["screening_outcome"] is None
    assert "Do you agree" in assistant.texts(visitor, "actually can you check if I can have it")


def test_review_factors_lead_to_a_flagged_consultation(assistant: RunningAssistant, visitor: str) -> None:
    start(assistant, visitor)
    answer_no_until(assistant, visitor, "medicines")
    assert "6/8: Apart from the roaccutane you mentioned" in assistant.texts(visitor, "I'm on roaccutane")
    assert "7/8:" in assistant.texts(visitor, "no")
    assistant.texts(visitor, "no")
    reply = assistant.texts(visitor, "no")
    state = slots(assistant, visitor)
    assert state["screening_outcome"] == "clinician_review" and state["screening_reasons"] == ["isotretinoin"]
    assert "flagged for a clinician" in reply and "nothing on our list" not in reply


def test_past_cancer_and_recurring_cold_sores_go_to_a_clinician(assistant: RunningAssistant, visitor: str) -> None:
    start(assistant, visitor)
    assistant.texts(visitor, "no")
    reply = assistant.texts(visitor, "I had melanoma 8 years ago, in remission")
    # "in remission" is after the comma: current cancer is asked about again, with the rest.
    assert "2/8: Apart from the melanoma you mentioned, do you have cancer, diabetes, or severe high" in reply
    assistant.texts(visitor, "no")
    assistant.texts(visitor, "no")
    reply = no_to_follow_ups(assistant, visitor, "no i get cold sores a few times a year, none right now")
    assert "6/8:" in reply, "the cold-sore question is not asked: the visitor said they get them"
    state = slots(assistant, visitor)
    assert set(state["screening_reasons"]) == {"cancer_history", "cold_sore_history"}
    assert state["screening_outcome"] == "clinician_review"


def test_an_unclear_answer_is_asked_about_each_condition_then_goes_to_a_clinician(
    assistant: RunningAssistant, visitor: str
) -> None:
    start(assistant, visitor)
    assert "Just to check: are you pregnant at the moment?" in assistant.texts(visitor, "banana")
    assert "Just to check: are you breastfeeding at the moment?" in assistant.texts(visitor, "banana again")
    assert "2/8:" in assistant.texts(visitor, "banana")
    assert slots(assistant, visitor)["screening_reasons"] == ["unclear:pregnancy", "unclear:breastfeeding"]


def test_not_sure_goes_straight_to_a_clinician(assistant: RunningAssistant, visitor: str) -> None:
    start(assistant, visitor)
    assert "2/8:" in assistant.texts(visitor, "I'm not sure")
    assert slots(assistant, visitor)["screening_outcome"] == "clinician_review"


def test_side_question_is_answered_and_the_same_question_asked_again(assistant: RunningAssistant, visitor: str) -> None:
    start(assistant, visitor)
    assistant.texts(visitor, "no")
    reply = assistant.texts(visitor, "how long is the downtime?")
    assert "7–10 days" in reply and reply.rstrip().endswith(POLICY.question("serious_conditions").text)
    assert "3/8:" in assistant.texts(visitor, "no")


def test_stop_asks_to_confirm_and_keeps_the_answers(assistant: RunningAssistant, visitor: str) -> None:
    start(assistant, visitor)
    assistant.texts(visitor, "no")
    assert "Your answers so far are kept" in assistant.texts(visitor, "stop")
    assert "2/8:" in assistant.texts(visitor, "no"), "not stopping resumes the same question"
    assistant.texts(visitor, "cancel this")
    assert "I've stopped" in assistant.texts(visitor, "yes")
    assert slots(assistant, visitor)["screening_findings"]["factors"] == {
        "breastfeeding": "absent",
        "pregnancy": "absent",
    }


def test_later_disclosure_moves_an_eligible_visitor_to_not_suitable(assistant: RunningAssistant, visitor: str) -> None:
    start(assistant, visitor)
    for _ in QUESTION_ORDER:
        assistant.texts(visitor, "no")
    assert slots(assistant, visitor)["screening_outcome"] == "eligible"
    reply = assistant.texts(visitor, "oh I forgot, I'm pregnant. does it hurt?")
    assert "isn't done during pregnancy" in reply and "numbing cream" in reply
    assert slots(assistant, visitor)["screening_outcome"] == "not_suitable"


@pytest.mark.parametrize("text", ["hi, I'm 5 months pregnant", "thanks! btw I'm breastfeeding", "bye, I have diabetes"])
def test_a_disclosure_in_small_talk_is_answered_at_once(assistant: RunningAssistant, visitor: str, text: str) -> None:
    reply = assistant.texts(visitor, text)
    assert slots(assistant, visitor)["screening_outcome"] == "not_suitable"
    assert "isn't possible for you at the moment" in reply and "not a diagnosis" in reply


def test_another_persons_condition_does_not_count(assistant: RunningAssistant, visitor: str) -> None:
    start(assistant, visitor)
    assistant.texts(visitor, "no")
    reply = assistant.texts(visitor, "no, my sister has diabetes though")
    assert "Just to check: do you have cancer?" in reply, "more than a plain no: each condition is asked"
    assert "3/8:" in no_to_follow_ups(assistant, visitor, "no")
    for _ in QUESTION_ORDER[2:]:
        assistant.texts(visitor, "no")
    assert slots(assistant, visitor)["screening_outcome"] == "eligible"


# --- Reading free text: the defects this screen once had, end to end ---------------------


def test_a_leading_no_with_cold_sores_ends_with_a_clinician(assistant: RunningAssistant, visitor: str) -> None:
    start(assistant, visitor)
    answer_no_until(assistant, visitor, "active_skin")
    assert "6/8:" in no_to_follow_ups(assistant, visitor, "no i get cold sores sometimes"), (
        "the cold-sore question is not asked again"
    )
    for _ in range(3):
        assistant.texts(visitor, "no")
    state = slots(assistant, visitor)
    assert state["screening_outcome"] == "clinician_review" and state["screening_reasons"] == ["cold_sore_history"]


def test_cancer_that_is_over_is_an_answer_not_a_stop(assistant: RunningAssistant, visitor: str) -> None:
    start(assistant, visitor)
    assistant.texts(visitor, "no")
    reply = assistant.texts(visitor, "I don't have cancer anymore")
    assert "stop" not in reply.lower() and "Apart from the cancer you mentioned" in reply
    assert slots(assistant, visitor)["screening_reasons"] == ["cancer_history"]


def test_a_question_about_tanning_is_answered_and_recorded_as_nothing(
    assistant: RunningAssistant, visitor: str
) -> None:
    reply = assistant.say(visitor, "can i tan before my laser?")
    text = "\n".join(m.get("text", "") for m in reply)
    assert "isn't possible for you" not in text and "6 weeks" in text
    assert slots(assistant, visitor)["screening_outcome"] is None
    assert "Do you agree" in assistant.texts(visitor, "can you check if I'm suitable?"), "the screen still starts"


def test_a_hedged_answer_is_confirmed(assistant: RunningAssistant, visitor: str) -> None:
    start(assistant, visitor)
    assert "Just to check: are you pregnant at the moment?" in assistant.texts(
        visitor, "I think I might be breastfeeding"
    )
    assert "Just to check: are you breastfeeding at the moment?" in assistant.texts(visitor, "no")
    assert "2/8:" in assistant.texts(visitor, "no")
    assert slots(assistant, visitor)["screening_findings"]["factors"]["breastfeeding"] == "absent"


def test_a_family_history_of_vitiligo_is_announced(assistant: RunningAssistant, visitor: str) -> None:
    reply = assistant.texts(visitor, "hi, my mum has vitiligo")
    assert POLICY.factor("vitiligo_family").explanation in reply and "not a diagnosis" in reply
    assert slots(assistant, visitor)["screening_reasons"] == ["vitiligo_family"]


@pytest.mark.parametrize(
    "text",
    [
        "am I a good candidate for laser resurfacing?",
        "can I do it?",
        "can I have laser for my acne scars?",
        "would it work for me? I'm 52 with deep wrinkles",
        "can I have fractional laser?",
    ],
)
def test_asking_to_be_checked_leads_to_the_screen(assistant: RunningAssistant, visitor: str, text: str) -> None:
    """The screen starts, or, when NLU is unsure, "Did you mean…" offers it first."""
    replies = assistant.say(visitor, text)
    reply = "\n".join(m.get("text", "") for m in replies)
    if "Did you mean" in reply:
        assert replies[-1]["buttons"][0] == {"title": "Can I have it?", "payload": "/start_screening"}
    else:
        assert "Do you agree to answer health questions?" in reply


def test_a_side_question_with_a_no_is_answered_and_the_question_asked_again(
    assistant: RunningAssistant, visitor: str
) -> None:
    start(assistant, visitor)
    reply = assistant.texts(visitor, "no, but does it hurt?")
    assert "numbing cream" in reply and "1/8:" in reply
    assert "2/8:" in assistant.texts(visitor, "no")
