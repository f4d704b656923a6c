"""From the visitor's words to screening findings and answers, through the real spaCy pipeline."""

from __future__ import annotations

import pytest

from actions.screening.evaluator import Answer
from actions.screening.language import Findings, findings, read_answer
from actions.screening.policy import default_policy
from nlp.build_pipeline import build, load_patterns
from nlp.rasa_extractor import normalise_quotes, terms_in

POLICY = default_policy()


@pytest.fixture(scope="module")
def nlp():
    return build(load_patterns())


def found(nlp, text: str) -> Findings:
    return findings(POLICY, terms_in(nlp(normalise_quotes(text))))


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("yes I'm 12 weeks pregnant", {"pregnancy"}, set()),
        ("I'm 5 months pregnant, can I get the laser?", {"pregnancy"}, set()),
        ("no I'm not pregnant", set(), {"pregnancy"}),
        ("not pregnant, not breastfeeding", set(), {"pregnancy", "breastfeeding"}),
        ("I had melanoma 8 years ago, in remission", {"cancer_history"}, set()),
        ("I have skin cancer", {"cancer"}, set()),
        ("I get cold sores a few times a year, none right now", {"cold_sore_history"}, set()),
        ("I've got a cold sore on my lip", {"active_cold_sore", "cold_sore_history"}, set()),
        ("never had cold sores", set(), {"active_cold_sore", "cold_sore_history"}),
        ("my mum has vitiligo", {"vitiligo_family"}, set()),
        ("my sister has diabetes", set(), set()),
        ("my friend has vitiligo", set(), set()),
        ("I'm on roaccutane", {"isotretinoin"}, set()),
        ("I took accutane last year", {"isotretinoin"}, set()),
        ("I take warfarin for my heart", {"anticoagulants"}, set()),
        ("diabetic type 2", {"diabetes"}, set()),
        ("I had gestational diabetes years ago", {"diabetes_history"}, set()),
        ("I've got psoriasis", {"psoriasis"}, set()),
        ("i have eczema on my hands", {"dermatosis"}, set()),
        ("I have a keloid scar from my c-section", {"keloid"}, set()),
        ("I just got back from holiday with a tan", {"recent_tan"}, set()),
        ("high blood pressure but it's controlled", {"severe_hypertension"}, set()),
        ("I have lupus", {"autoimmune"}, set()),
        ("my skin is dark brown", set(), set()),
        ("is it safe for pregnant women?", set(), set()),
    ],
)
def test_what_a_message_tells_us(nlp, text: str, present: set, absent: set) -> None:
    result = found(nlp, text)
    assert (set(result.present), set(result.absent)) == (present, absent)


@pytest.mark.parametrize(
    ("question", "intent", "text", "expected"),
    [
        ("pregnancy", "deny", "nope", Answer.NO),
        ("pregnancy", "deny", "no I'm not", Answer.NO),
        ("pregnancy", "affirm", "yes", Answer.YES),
        ("pregnancy", "start_screening", "yes I'm 12 weeks pregnant", Answer.YES),
        ("pregnancy", "out_of_scope", "I'm breastfeeding my son", Answer.YES),
        ("pregnancy", "nlu_fallback", "not pregnant and not breastfeeding", Answer.NO),
        ("pregnancy", "deny", "I'm not sure", Answer.UNCLEAR),
        ("pregnancy", "affirm", "maybe", Answer.UNCLEAR),
        ("pregnancy", "deny", "I don't know yet", Answer.UNCLEAR),
        ("pregnancy", "greet", "hmm what", None),
        ("serious_conditions", "out_of_scope", "I had melanoma 8 years ago, in remission", Answer.YES),
        ("serious_conditions", "deny", "no, but I take warfarin", Answer.NO),
        ("cold_sores", "nlu_fallback", "I get cold sores a few times a year, none right now", Answer.YES),
        ("skin_conditions", "nlu_fallback", "my mum has vitiligo", Answer.YES),
        ("medicines", "nlu_fallback", "I'm on roaccutane", Answer.YES),
    ],
)
def test_reading_an_answer(nlp, question: str, intent: str, text: str, expected: Answer | None) -> None:
    assert read_answer(POLICY.question(question), intent, text, found(nlp, text)) == expected
