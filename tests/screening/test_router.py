"""The NLU router: what the screen would record reaches the screen, whatever intent NLU guessed."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlp.disclosure import DisclosureRouter
from nlp.rasa_extractor import terms_in
from nlp.text import normalise
from tests.screening.reader import pipeline


def routed_intent(text: str, intent: str, confidence: float = 0.9) -> str:
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": confidence}})
    message.set("entities", terms_in(pipeline()(normalise(text)), text))
    (routed,) = DisclosureRouter().process([message])
    return routed.get("intent")["name"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hi, I'm 5 months pregnant", "greet"),
        ("hi, my mum has vitiligo", "greet"),
        ("I don't have cancer anymore", "stop"),
        ("I think I might be breastfeeding", "nlu_fallback"),
    ],
)
def test_disclosures_go_to_the_screen(text: str, intent: str) -> None:
    assert routed_intent(text, intent) == "start_screening"


@pytest.mark.parametrize(
    ("text", "intent", "answer"),
    [
        ("an infection yes", "faq", "affirm"),
        ("a Rash, YES!", "faq", "affirm"),
        ("that one, yes", "out_of_scope", "affirm"),
        ("cold sores no", "faq", "deny"),
        ("infection... nope", "nlu_fallback", "deny"),
    ],
)
def test_a_short_statement_ending_in_yes_or_no_is_an_answer(text: str, intent: str, answer: str) -> None:
    assert routed_intent(text, intent) == answer


@pytest.mark.parametrize(
    "text",
    [
        "does it hurt, yes?",
        "is it safe yes or no",
        "Can I have it after an infection no",
        "tell me the aftercare pls yes",
    ],
)
def test_questions_and_longer_messages_keep_their_intent(text: str) -> None:
    assert routed_intent(text, "faq") == "faq"


def test_a_disclosure_half_read_as_forget_my_data_goes_to_the_screen() -> None:
    assert routed_intent("oh I forgot, I'm pregnant", "erase_my_data", confidence=0.55) == "start_screening"
    sure = "please delete what I told you about being pregnant"
    assert routed_intent(sure, "erase_my_data", confidence=0.95) == "erase_my_data"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("is it safe while breastfeeding?", "nlu_fallback"),
        ("my husband is diabetic", "out_of_scope"),
        ("I'm not pregnant, bye", "goodbye"),
        ("stop, I'm pregnant", "faq"),  # questions keep their answer, announced first by the rules
    ],
)
def test_questions_denials_and_other_people_stay_where_nlu_put_them(text: str, intent: str) -> None:
    assert routed_intent(text, intent) == intent


@pytest.mark.parametrize(
    ("text", "intent", "answer"),
    [
        ("no i get cold sores a few times a year, none right now", "human_handoff", "deny"),
        ("No, my sister has diabetes though", "human_handoff", "deny"),
        ("nope - had eczema as a kid", "human_handoff", "deny"),
        ("no, my dad has diabetes", "stop", "deny"),
        ("yes, isotretinoin for my acne", "human_handoff", "affirm"),
    ],
)
def test_a_health_detail_after_yes_or_no_is_an_answer_not_a_request(text: str, intent: str, answer: str) -> None:
    assert routed_intent(text, intent, confidence=0.6) == answer


@pytest.mark.parametrize(
    ("text", "intent", "confidence"),
    [
        ("no, I'd like to talk to a person about my eczema", "human_handoff", 0.95),  # sure: a real request
        ("no, I want a real person", "human_handoff", 0.6),  # nothing about health
        ("can someone call me about my rosacea?", "human_handoff", 0.6),  # no opening yes or no
    ],
)
def test_real_requests_stay_requests(text: str, intent: str, confidence: float) -> None:
    assert routed_intent(text, intent, confidence) == intent
