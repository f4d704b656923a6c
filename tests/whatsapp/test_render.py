"""A bot turn becomes WhatsApp messages Meta accepts, and reads as well as the web chat's bubbles.

Every composed message is checked by the Graph API simulator's own validator (written from
Meta's documented limits, independently of render.py), including for random turns.
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.topics import TOPICS
from channels.whatsapp.render import compose_turn, shorten, split_text
from tests.whatsapp.simulator import validate_send
from tools.servers import PROJECT_ROOT


def accepted(turn: list[dict]) -> list[dict]:
    """The composed messages, each as the Graph API would receive it, all validated."""
    bodies = [{"messaging_product": "whatsapp", "to": "447700900123", **o.body} for o in compose_turn(turn)]
    for body in bodies:
        validate_send(body)
    return bodies


def choices(body: dict) -> list[tuple[str, str]]:
    interactive = body.get("interactive") or {}
    if interactive.get("type") == "button":
        return [(b["reply"]["id"], b["reply"]["title"]) for b in interactive["action"]["buttons"]]
    if interactive.get("type") == "list":
        return [(r["id"], r["title"]) for s in interactive["action"]["sections"] for r in s["rows"]]
    return []


def test_texts_of_one_turn_arrive_as_one_bubble() -> None:
    (body,) = accepted([{"text": "Hello!"}, {"text": "I'm an automated assistant."}])
    assert body["text"]["body"] == "Hello!\n\nI'm an automated assistant."


def test_texts_before_a_question_with_buttons_join_its_body() -> None:
    turn = [{"text": "Thanks."}, {"text": "Are you pregnant?", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]
    (body,) = accepted(turn)
    assert body["interactive"]["body"]["text"] == "Thanks.\n\nAre you pregnant?"
    assert choices(body) == [("/affirm", "Yes")]


def test_four_to_ten_options_become_a_list_with_payloads_as_ids() -> None:
    options = [TOPICS[label].button() for label in list(TOPICS)[:7]]
    (body,) = accepted([{"text": "Which topic?", "buttons": options}])
    assert body["interactive"]["type"] == "list"
    assert [row_id for row_id, _ in choices(body)] == [o["payload"] for o in options]


def test_more_than_ten_options_become_a_numbered_text() -> None:
    options = [TOPICS[label].button() for label in list(TOPICS)[:12]]
    (body,) = accepted([{"text": "Which topic?", "buttons": options}])
    lines = body["text"]["body"].splitlines()
    assert "1. How it works" in lines and "12. " + options[11]["title"] in lines
    menu = compose_turn([{"text": "Which topic?", "buttons": options}])[-1].numbered
    assert menu[11].payload == options[11]["payload"]


def test_a_long_button_title_is_shortened_at_a_word_with_a_mark() -> None:
    option = {"title": "Yes, please send my request now", "payload": "/affirm"}
    (body,) = accepted([{"text": "Shall I?", "buttons": [option]}])
    assert choices(body) == [("/affirm", "Yes, please send my…")]


def test_long_text_is_split_between_paragraphs_and_nothing_is_lost() -> None:
    paragraphs = [f"Paragraph {n}. " + "word " * 150 for n in range(12)]
    bodies = accepted([{"text": "\n\n".join(paragraphs)}])
    assert len(bodies) > 1
    joined = " ".join(b["text"]["body"] for b in bodies)
    assert joined.split() == " ".join(paragraphs).split()
    assert all(b["text"]["body"].startswith("Paragraph") for b in bodies)


def test_a_long_answer_with_buttons_sends_the_text_first_and_keeps_the_buttons() -> None:
    long_answer = "First part. " * 100 + "\n\nWould you like to book?"
    bodies = accepted([{"text": long_answer, "buttons": [TOPICS["book_consultation"].button()]}])
    assert [b["type"] for b in bodies] == ["text", "interactive"]
    assert bodies[1]["interactive"]["body"]["text"] == "Would you like to book?"


def domain_buttons() -> list[list[dict]]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return [v["buttons"] for variations in domain["responses"].values() for v in variations if v.get("buttons")]


@pytest.mark.parametrize("buttons", domain_buttons())
def test_every_button_set_in_the_domain_is_sent_unshortened(buttons: list[dict]) -> None:
    (body,) = accepted([{"text": "Question?", "buttons": buttons}])
    assert [title for _, title in choices(body)] == [b["title"] for b in buttons]


def test_shorten_keeps_short_titles_and_respects_the_limit() -> None:
    assert shorten("Prices", 20) == "Prices"
    assert len(shorten("Supercalifragilisticexpialidocious", 20)) == 20


def test_split_text_keeps_every_word() -> None:
    text = "A" * 5000 + " end"
    assert "".join(split_text(text)).replace(" ", "") == text.replace(" ", "")


words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=0, max_size=60)
button = st.fixed_dictionaries({"title": words.filter(str.strip), "payload": st.text(min_size=1, max_size=300)})
message = st.fixed_dictionaries(
    {"text": st.one_of(words, st.text(min_size=900, max_size=6000))},
    optional={"buttons": st.lists(button, min_size=1, max_size=14)},
)


@settings(max_examples=300, deadline=None)
@given(st.lists(message, min_size=1, max_size=5))
def test_any_turn_composes_into_messages_meta_accepts(turn: list[dict]) -> None:
    """Whatever the domain or an action sends: no rejected payload, and every option stays choosable."""
    bodies = accepted(turn)
    offered = [payload for body in bodies for payload, _ in choices(body)]
    numbered = [c.payload for o in compose_turn(turn) for c in o.numbered]
    for sent in turn:
        for option in sent.get("buttons", []):
            assert option["payload"] in offered or option["payload"] in numbered


def test_a_button_without_a_title_shows_its_payload() -> None:
    (body,) = accepted([{"text": "Pick one", "buttons": [{"payload": "/affirm"}, {"title": "No", "payload": "/deny"}]}])
    assert choices(body) == [("/affirm", "/affirm"), ("/deny", "No")]
