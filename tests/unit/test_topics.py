""" "Did you mean…" offers the topics the classifiers found closest, FAQ keys included."""

from __future__ import annotations

from actions.topics import TOPICS, likely_topics


def parse(intents: list[tuple[str, float]], faq_keys: list[tuple[str, float]]) -> dict:
    return {
        "intent": {"name": "nlu_fallback", "confidence": 0.45},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.45}]
        + [{"name": n, "confidence": c} for n, c in intents],
        "response_selector": {
            "all_retrieval_intents": ["faq", "out_of_scope"],
            "default": {"ranking": [{"intent_response_key": k, "confidence": c} for k, c in faq_keys]},
        },
    }


def test_two_close_faq_answers_are_offered() -> None:
    result = parse([("faq", 0.9), ("clinic_info", 0.05)], [("faq/downtime", 0.5), ("faq/aftercare", 0.45)])
    assert likely_topics(result) == [TOPICS["faq/downtime"], TOPICS["faq/aftercare"]]


def test_intents_and_faq_answers_are_ranked_together() -> None:
    result = parse([("start_screening", 0.5), ("faq", 0.45)], [("faq/suitability", 0.9), ("faq/pain", 0.1)])
    assert likely_topics(result) == [TOPICS["start_screening"], TOPICS["faq/suitability"]]


def test_topics_without_a_button_are_skipped() -> None:
    result = parse([("goodbye", 0.6), ("greet", 0.3), ("faq", 0.1)], [("faq/price", 0.8)])
    assert likely_topics(result) == [TOPICS["faq/price"]]


def test_out_of_scope_keys_are_never_offered() -> None:
    result = parse([("out_of_scope", 0.9)], [("out_of_scope/other", 0.9)])
    assert likely_topics(result) == []


def test_an_unclear_question_about_the_visitor_offers_the_pre_screen_first() -> None:
    unclear = parse([("faq", 1.0), ("start_screening", 0.0)], [("faq/pain", 0.23), ("faq/body_areas", 0.15)])
    for personal in ("can I do it?", "Could i get it", "is it ok for me?", "  should I??"):
        assert likely_topics({**unclear, "text": personal}) == [TOPICS["start_screening"], TOPICS["faq/pain"]]
    for general in ("can teenagers do it?", "how long does it take", "is it ok for teenagers"):
        assert likely_topics({**unclear, "text": general}) == [TOPICS["faq/pain"], TOPICS["faq/body_areas"]]
