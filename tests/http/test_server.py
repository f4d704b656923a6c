"""The running assistant over real HTTP, as the web chat, clinic staff and operators use it."""

from __future__ import annotations

import socket
import time

import requests
import yaml

from channels.reply_guard import APOLOGY
from tests.support import API_TOKEN, RunningAssistant
from tools.servers import AssistantServers, answers, free_port


def test_greeting_says_it_is_an_automated_assistant(assistant: RunningAssistant, visitor: str) -> None:
    replies = assistant.say(visitor, "hello")
    text = " ".join(m.get("text", "") for m in replies).lower()
    assert "automated assistant" in text
    assert "not a doctor" in text
    assert any(m.get("buttons") for m in replies), "the greeting offers quick replies"


def test_bot_challenge_is_answered_honestly(assistant: RunningAssistant, visitor: str) -> None:
    assert "not a person" in assistant.texts(visitor, "am i talking to a real human?").lower()


def test_clinic_details_come_from_clinic_yml_without_retraining(assistant: RunningAssistant, visitor: str) -> None:
    clinic = yaml.safe_load(assistant.clinic_file.read_text())
    answer = assistant.texts(visitor, "what are your opening hours?")
    assert clinic["phone"] in answer and clinic["address"] in answer

    clinic["phone"] = "+44 20 7946 0777"
    assistant.clinic_file.write_text(yaml.safe_dump(clinic, allow_unicode=True))
    assert "+44 20 7946 0777" in assistant.texts(f"{visitor}-later", "where is the clinic")


def test_unrelated_questions_are_redirected(assistant: RunningAssistant, visitor: str) -> None:
    answer = assistant.texts(visitor, "who won the football last night?").lower()
    assert "laser" in answer and "outside what i can help with" in answer


def test_unclear_messages_get_did_you_mean_then_a_rephrase_then_a_person(
    assistant: RunningAssistant, visitor: str
) -> None:
    first = assistant.say(visitor, "qwpoeiru zxmncb")
    assert "Did you mean" in first[-1]["text"]
    assert first[-1]["buttons"][-1] == {"title": "Something else", "payload": "/out_of_scope"}
    rephrase = assistant.say(visitor, "/out_of_scope")[-1]
    assert "put that another way" in rephrase["text"]
    assert {"title": "Talk to a person", "payload": "/human_handoff"} in rephrase["buttons"]
    assert "phone number or email" in assistant.texts(visitor, "/human_handoff")


def test_did_you_mean_button_answers_the_question(assistant: RunningAssistant, visitor: str) -> None:
    offered = assistant.say(visitor, "qwpoeiru zxmncb")[-1]["buttons"]
    topic = next(b for b in offered if b["payload"] != "/out_of_scope")
    answer = assistant.texts(visitor, topic["payload"])  # once: a button only counts while it is on offer
    assert answer, "choosing a topic gets an answer"
    assert "Did you mean" not in answer


def test_http_api_needs_the_token(assistant: RunningAssistant) -> None:
    assert requests.get(f"{assistant.url}/status", timeout=10).status_code == 401
    assert requests.get(f"{assistant.url}/status", params={"token": API_TOKEN}, timeout=10).status_code == 200


def test_chat_page_is_served_by_the_rasa_server(assistant: RunningAssistant) -> None:
    page = requests.get(f"{assistant.url}/chat/", timeout=10)
    assert page.status_code == 200 and "Aurora Skin Clinic" in page.text
    assert requests.get(f"{assistant.url}/chat/assets/chat.js", timeout=10).status_code == 200


def test_action_server_down_gets_an_apology_then_recovers(assistant: RunningAssistant, visitor: str) -> None:
    assistant.say(visitor, "hello")
    assistant.servers.action_server.stop()
    try:
        assert assistant.texts(visitor, "what are your opening hours?") == APOLOGY
        assert "automated assistant" in assistant.texts(visitor, "hi again").lower(), (
            "answers that need no action still work"
        )
    finally:
        assistant.restart("action_server")
    assert "Opening hours" in assistant.texts(visitor, "what are your opening hours?")


def test_the_action_server_is_not_reachable_from_other_interfaces(tmp_path) -> None:
    """Even when the assistant serves every interface (HOST=0.0.0.0), the action server, which
    has no authentication, answers on loopback only."""
    servers = AssistantServers(model=tmp_path / "unused.tar.gz", host="0.0.0.0", action_port=free_port())
    action = servers.action_server
    action.start()
    try:
        deadline = time.monotonic() + 120
        while not answers(action.ready_url) and time.monotonic() < deadline:
            assert action.exited() is None, "the action server stopped while starting"
            time.sleep(0.5)
        assert answers(action.ready_url)
        with socket.socket() as probe:  # 127.0.0.2 is this machine too, but not the address it is bound to
            probe.settimeout(5)
            assert probe.connect_ex(("127.0.0.2", servers.action_port)) != 0
    finally:
        action.stop()
