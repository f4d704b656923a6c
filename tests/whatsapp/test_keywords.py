"""STOP and START as WhatsApp users write them, and the messages that only look like them."""

from __future__ import annotations

import pytest

from channels.whatsapp.channel import OPT_IN, OPT_OUT, command_in


@pytest.mark.parametrize(
    "text",
    ["STOP", "Stop.", "stop!!", " stop ", "STOP ALL", "unsubscribe", "Unsubscribe me", "opt-out", "Opt out",
     "please stop messaging me", "pls stop", "stop, thanks", "Stop texting me!", "unsubscribe me please"],
)  # fmt: skip
def test_opting_out(text: str) -> None:
    assert OPT_OUT.match(command_in(text))


@pytest.mark.parametrize(
    "text",
    ["stop the questions", "do I need to stop my retinol?", "when should I stop tanning", "can I stop halfway?",
     "stop smoking before laser?", "I stopped roaccutane last year", "non stop itching", "start", "stopping"],
)  # fmt: skip
def test_what_only_looks_like_opting_out(text: str) -> None:
    assert not OPT_OUT.match(command_in(text))


@pytest.mark.parametrize("text", ["START", "Start.", "start again", "subscribe", "UNSTOP"])
def test_opting_back_in(text: str) -> None:
    assert OPT_IN.match(command_in(text))


@pytest.mark.parametrize("text", ["when can I start?", "start the health questions", "stop"])
def test_what_only_looks_like_opting_in(text: str) -> None:
    assert not OPT_IN.match(command_in(text))
