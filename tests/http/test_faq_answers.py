"""The conversation tests' FAQ questions get the right answer from the running assistant.

`rasa test` checks the dialogue (that an FAQ answer follows) but not which of the sixteen
answers the response selector picked. This replays every FAQ step of the conversation tests
against the real server and checks the visitor sees the expected answer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from actions.clinic_config import load_clinic_config
from tests.support import RunningAssistant

ROOT = Path(__file__).resolve().parents[2]
STORY_FILES = sorted((ROOT / "tests" / "conversations").glob("test_*.yml"))
FAQ_RESPONSES = yaml.safe_load((ROOT / "data" / "responses" / "faq.yml").read_text(encoding="utf-8"))["responses"]


def faq_steps() -> list[tuple[str, str]]:
    steps = []
    for path in STORY_FILES:
        for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]:
            for step in story["steps"]:
                if str(step.get("intent", "")).startswith("faq/"):
                    steps.append((step["user"].strip(), step["intent"]))
    return steps


def first_bubble(key: str, clinic_file: Path) -> str:
    slots = load_clinic_config(clinic_file).as_slots()
    text = FAQ_RESPONSES[f"utter_{key}"][0]["text"]
    return re.sub(r"\{(\w+)\}", lambda m: slots[m[1]], text).split("\n\n")[0]


@pytest.mark.parametrize(("text", "key"), faq_steps())
def test_question_gets_its_answer(assistant: RunningAssistant, visitor: str, text: str, key: str) -> None:
    """The answer comes first: nothing (such as a wrongly read verdict) is said before it."""
    first = assistant.say(visitor, text)[0].get("text", "")
    assert first.split("\n\n")[0] == first_bubble(key, assistant.clinic_file)
