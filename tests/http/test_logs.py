"""The servers' log at its default level: ids and counts, never what visitors wrote, their phone
numbers, or anyone's tokens and passwords."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from console.sessions import COOKIE
from tests.console.support import PASSWORDS, ConsoleClient
from tests.support import API_TOKEN, STAFF_TOKEN, WHATSAPP, RunningAssistant, WebChatVisitor
from tests.whatsapp.simulator import GraphSimulator
from tests.whatsapp.test_channel import WhatsAppVisitor, new_contact

pytestmark = pytest.mark.servers

PHONE = "07400 123456"
PHONE_FORMS = ["07400 123456", "07400123456", "7400123456", "7400 123456"]  # +447400123456 contains the third


def log_since(assistant: RunningAssistant, offset: int) -> str:
    time.sleep(2)  # whatever the processes still had to write
    return assistant.log_file.read_bytes()[offset:].decode("utf-8", "replace")


def test_a_whole_visit_leaves_no_words_numbers_or_tokens_in_the_log(
    assistant: RunningAssistant, meta: GraphSimulator, console_roles: dict
) -> None:
    offset = assistant.log_file.stat().st_size
    rest_words = f"my parrot is called Quetzalcoatl-{uuid.uuid4().hex[:6]}"
    web_words = f"my cat is called Zanzibar-{uuid.uuid4().hex[:6]}"
    whatsapp_words = f"my tortoise Xylophone-{uuid.uuid4().hex[:6]} has a rash"
    wrong_password = f"not-my-password-{uuid.uuid4().hex[:6]}"

    # A REST visitor chats and books with a phone number; staff read the transcript with the
    # token in the query string, once right and once wrong.
    visitor = f"logs-{uuid.uuid4().hex[:8]}"
    assistant.say(visitor, f"hello, {rest_words}")
    for text in ("I'd like to book a consultation", "Maria Lopez", PHONE, "skip", "next tuesday afternoon"):
        assistant.say(visitor, text)
    assert requests.get(f"{assistant.url}/conversations/{visitor}/tracker?token={API_TOKEN}", timeout=30).ok
    hung_up = f"my goldfish is called Ouagadougou-{uuid.uuid4().hex[:6]}"
    with pytest.raises(requests.exceptions.ReadTimeout):  # a client that hangs up mid-turn (a turn takes > 5 ms)
        requests.post(
            f"{assistant.url}/webhooks/rest/webhook", json={"sender": visitor, "message": hung_up}, timeout=(5, 0.005)
        )
    assert requests.get(f"{assistant.url}/status?token=wrong-{API_TOKEN}", timeout=30).status_code == 401
    assert assistant.staff("GET", "/handoffs").ok

    # A web chat visitor, whose session id is the key to the conversation.
    web = WebChatVisitor(assistant)
    try:
        session_id = web.start()
        web.says(web_words)
    finally:
        web.close()

    # A WhatsApp visitor, known by their phone number.
    whatsapp = WhatsAppVisitor(meta, assistant, new_contact())
    whatsapp.says(whatsapp_words)
    whatsapp.says("STOP")
    whatsapp.meta.send_text(whatsapp.contact, "are you still there?")  # after STOP: not answered, but logged

    # Staff log in to the console, once with a wrong password.
    staff = ConsoleClient(assistant.servers.console_url)
    assert staff.log_in("test-staff", wrong_password).status_code == 401
    assert staff.log_in("test-staff", PASSWORDS["staff"]).status_code == 200
    cookie = staff.http.cookies.get(COOKIE)
    assert cookie

    log = log_since(assistant, offset)
    secrets = {
        "REST message": rest_words,
        "REST message of a client that hung up": hung_up,
        "web chat message": web_words,
        "WhatsApp message": whatsapp_words,
        "web chat session id": session_id,
        "WhatsApp number": whatsapp.contact.wa_id,
        "API token": API_TOKEN,
        "staff token": STAFF_TOKEN,
        "WhatsApp access token": WHATSAPP["WHATSAPP_ACCESS_TOKEN"],
        "WhatsApp app secret": WHATSAPP["WHATSAPP_APP_SECRET"],
        "console password": PASSWORDS["staff"],
        "wrong console password": wrong_password,
        "console session cookie": cookie,
        **{f"phone number ({form})": form for form in PHONE_FORMS},
    }
    leaked = {name: value for name, value in secrets.items() if value in log}
    assert not leaked, f"in the log: {sorted(leaked)}\n--- log ---\n{log[-4000:]}"
