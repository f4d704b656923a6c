"""Every reply fits a chat bubble and WhatsApp's buttons, and every FAQ answer cites sources."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from actions.clinic_config import DEFAULT_PATH, load_clinic_config
from actions.topics import TOPICS, WHATSAPP_BUTTON_LIMIT, WHATSAPP_BUTTON_TITLE_LIMIT

ROOT = Path(__file__).resolve().parents[2]
RESPONSE_FILES = [ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml"))]
FAQ_KEYS = [
    "how_it_works", "laser_types", "conditions_treated", "body_areas", "downtime", "aftercare",
    "preparation", "pain", "sessions", "results", "side_effects", "suitability", "alternatives",
    "combinations", "specialist", "price",
]  # fmt: skip
BUBBLE_LIMIT = 600


def responses() -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for path in RESPONSE_FILES:
        found.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("responses", {}))
    return found


RESPONSES = responses()
SLOTS = load_clinic_config(DEFAULT_PATH).as_slots()


# Filled in by the action that sends the response, with the longest values it can send.
FILLED_BY_ACTION = {
    "utter_data_erased": {
        "erasure_reference": "ER-ABCDEF",
        "kept": " The clinic keeps only your booking reference (BK-ABCDEF, BK-GHJKLM) and a note that your data "
        "was deleted; its booking system has been asked to delete its copy.",
    }
}


def rendered(text: str, name: str = "") -> str:
    """The text as a visitor sees it, with the clinic's facts (and any action's values) filled in."""
    values = {**SLOTS, **FILLED_BY_ACTION.get(name, {})}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[0]), text)


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_response_fits_chat_and_whatsapp(name: str) -> None:
    for variant in RESPONSES[name]:
        text = rendered(variant["text"], name)
        assert "{" not in text, "every placeholder is a clinic fact (or filled by its action)"
        for bubble in text.split("\n\n"):
            assert len(bubble) <= BUBBLE_LIMIT
        buttons = variant.get("buttons", [])
        assert len(buttons) <= WHATSAPP_BUTTON_LIMIT
        for button in buttons:
            assert len(button["title"]) <= WHATSAPP_BUTTON_TITLE_LIMIT


FORM_ANSWERS = {("Yes", "/affirm"), ("No", "/deny"), ("Skip", "skip")}
ANSWER_PREFIXES = {"/affirm": "Yes", "/deny": "No"}  # "Yes, delete my data" answers yes


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_buttons_lead_where_the_topic_catalogue_says(name: str) -> None:
    catalogue = {(t.title, t.payload) for t in TOPICS.values()} | FORM_ANSWERS
    for variant in RESPONSES[name]:
        for button in variant.get("buttons", []):
            title, payload = button["title"], button["payload"]
            assert (title, payload) in catalogue or title.startswith(ANSWER_PREFIXES.get(payload, "\0"))


@pytest.mark.parametrize("key", FAQ_KEYS)
def test_every_faq_key_has_an_answer_with_sources(key: str) -> None:
    assert f"utter_faq/{key}" in RESPONSES
    raw = (ROOT / "data" / "responses" / "faq.yml").read_text(encoding="utf-8").splitlines()
    start = raw.index(f"  utter_faq/{key}:")
    statements: list[str] = []  # one per comment; "#   " lines continue the previous one
    for line in raw[start + 1 :]:
        if not line.strip().startswith("#"):
            break
        if line.strip().startswith("#   ") and statements:
            statements[-1] += line.strip()[1:]
        else:
            statements.append(line.strip())
    assert statements, "the answer's medical statements list their sources"
    assert all(re.search(r"\b(C[12]|R\d+)\b|clinic\.yml", s) for s in statements)


def test_answers_offer_a_next_step() -> None:
    expected = {
        "downtime": "faq/aftercare",
        "suitability": "start_screening",
        "price": "book_consultation",
        "alternatives": "book_consultation",
    }
    for key, topic in expected.items():
        payloads = [b["payload"] for b in RESPONSES[f"utter_faq/{key}"][0]["buttons"]]
        assert TOPICS[topic].payload in payloads


def test_greeting_says_it_is_automated_and_not_a_clinician() -> None:
    text = RESPONSES["utter_greet"][0]["text"]
    assert "automated assistant" in text and "not a doctor or nurse" in text
