"""Rate limits on every public entry point, against real servers started with low limits.

The servers here are their own instance (the shared `assistant` runs with limits no test
reaches). Each test writes from its own loopback address (127.0.0.x: all of them are this
machine), so each starts with a fresh per-client allowance; every flood is a bounded loop.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from channels.rate_limit import SLOW_DOWN
from channels.whatsapp.channel import STOP_CONFIRMATION
from tests.console.support import PASSWORDS, ConsoleClient, ensure_accounts
from tests.support import (
    WHATSAPP,
    FromAddress,
    RunningAssistant,
    WebChatVisitor,
    client,
    meta_simulator,
    running_assistant,
    wait_for,
)
from tests.whatsapp.simulator import GraphSimulator
from tests.whatsapp.test_channel import WhatsAppVisitor, new_contact, text_of
from tools.servers import ServerProcess, free_port

pytestmark = pytest.mark.servers

# One token a minute after the burst: nothing refills while a test runs.
CLIENT_BURST, CONVERSATION_BURST, LOGIN_BURST = 6, 3, 3
LIMITS = {
    "RATE_LIMIT_CLIENT_BURST": str(CLIENT_BURST),
    "RATE_LIMIT_CLIENT_PER_MINUTE": "1",
    "RATE_LIMIT_CONVERSATION_BURST": str(CONVERSATION_BURST),
    "RATE_LIMIT_CONVERSATION_PER_MINUTE": "1",
    "RATE_LIMIT_LOGIN_BURST": str(LOGIN_BURST),
    "RATE_LIMIT_LOGIN_PER_MINUTE": "1",
}
FLOOD = 12  # messages a flood sends at most


@pytest.fixture(scope="module")
def meta_for_limits() -> Iterator[GraphSimulator]:
    with meta_simulator() as simulator:
        yield simulator


@pytest.fixture(scope="module")
def limited(
    trained_model: Path, tmp_path_factory: pytest.TempPathFactory, meta_for_limits: GraphSimulator
) -> Iterator[RunningAssistant]:
    extra_env = {**LIMITS, **WHATSAPP, "WHATSAPP_API_BASE": meta_for_limits.api_base, "WHATSAPP_RETRY_SECONDS": "0.3"}
    with running_assistant(trained_model, tmp_path_factory.mktemp("limited"), extra_env) as running:
        meta_for_limits.webhook_url = f"{running.url}/webhooks/whatsapp/webhook"
        yield running


def say(session: requests.Session, assistant: RunningAssistant, sender: str, text: str) -> requests.Response:
    return session.post(f"{assistant.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)


def said(assistant: RunningAssistant, sender: str) -> list[str]:
    return [e["text"] for e in assistant.tracker(sender)["events"] if e["event"] == "user"]


def flood_until_refused(send, limit: int) -> tuple[list[requests.Response], requests.Response]:
    """Sends until the first 429 (at most FLOOD times); the answers before it, and the 429."""
    answered = []
    for n in range(FLOOD):
        reply = send(n)
        if reply.status_code == 429:
            return answered, reply
        assert reply.status_code == 200, reply.text[:300]
        answered.append(reply)
    pytest.fail(f"{FLOOD} messages and never refused (the limit is {limit})")


def test_rest_flood_from_one_client_gets_429_with_retry_after(limited: RunningAssistant) -> None:
    flooder, other = client("127.0.0.11"), client("127.0.0.12")
    senders = [f"flood-{uuid.uuid4().hex[:8]}" for _ in range(FLOOD)]
    answered, refused = flood_until_refused(
        lambda n: say(flooder, limited, senders[n], "how much is it?"), CLIENT_BURST
    )

    assert len(answered) == CLIENT_BURST, "each of a new client's first messages is answered"
    assert all(reply.json() for reply in answered)
    assert int(refused.headers["Retry-After"]) >= 1
    assert "slow down" in refused.json()["error"]
    assert said(limited, senders[len(answered)]) == [], "the refused message ran no turn and was not stored"
    assert say(other, limited, f"other-{uuid.uuid4().hex[:8]}", "how much is it?").json(), "other clients go on"


def test_one_conversation_over_its_limit_is_refused_while_another_from_the_same_client_is_answered(
    limited: RunningAssistant,
) -> None:
    session = client("127.0.0.13")
    busy, calm = f"busy-{uuid.uuid4().hex[:8]}", f"calm-{uuid.uuid4().hex[:8]}"
    answered, refused = flood_until_refused(lambda n: say(session, limited, busy, f"question {n}"), CONVERSATION_BURST)

    assert len(answered) == CONVERSATION_BURST
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert said(limited, busy) == [f"question {n}" for n in range(CONVERSATION_BURST)]
    reply = say(session, limited, calm, "where are you?")
    assert reply.status_code == 200 and "Opening hours" in " ".join(m.get("text", "") for m in reply.json())


def test_socketio_messages_over_the_limit_get_a_polite_reply_and_no_turn(limited: RunningAssistant) -> None:
    visitor = WebChatVisitor(limited, "127.0.0.14")
    try:
        session_id = visitor.start()
        answers = [visitor.says(f"is it painful? ({n})") for n in range(CONVERSATION_BURST + 2)]
        texts = [[m.get("text") for m in answer] for answer in answers]
        assert all(SLOW_DOWN not in answer for answer in texts[:CONVERSATION_BURST]), texts
        assert texts[CONVERSATION_BURST:] == [[SLOW_DOWN], [SLOW_DOWN]], "told to slow down, and nothing else"
        assert said(limited, session_id) == ["/greet"] + [f"is it painful? ({n})" for n in range(CONVERSATION_BURST)]
    finally:
        visitor.close()


def test_whatsapp_flood_is_acknowledged_fast_answered_up_to_the_limit_and_told_to_wait_once(
    limited: RunningAssistant, meta_for_limits: GraphSimulator
) -> None:
    meta = meta_for_limits
    visitor = WhatsAppVisitor(meta, limited, new_contact())
    acknowledged = []
    for n in range(8):
        started = time.perf_counter()
        assert meta.send_text(visitor.contact, f"how much is it? {n}").status_code == 200
        acknowledged.append(time.perf_counter() - started)
    meta.wait_for_sends(CONVERSATION_BURST + 1, recipient=visitor.recipient, timeout=120)
    meta.wait_quiet(2.0)

    assert max(acknowledged) < 1.0, acknowledged
    texts = [sent.text for sent in visitor.received]
    assert texts.count(SLOW_DOWN) == 1, texts
    stored = [e["text"] for e in visitor.transcript() if e["event"] == "user"]
    assert stored == [f"how much is it? {n}" for n in range(CONVERSATION_BURST)]
    assert STOP_CONFIRMATION in text_of(visitor.says("STOP")), "STOP is honoured even over the limit"


def test_console_login_flood_gets_429_before_any_account_locks(limited: RunningAssistant) -> None:
    ensure_accounts(limited)
    flooder = ConsoleClient(limited.servers.console_url)
    flooder.http.mount("http://", FromAddress("127.0.0.15"))
    flooder.get("/login")
    statuses = [flooder.post("/login", {"name": "test-staff", "password": "guess"}).status_code for _ in range(8)]
    assert statuses[:LOGIN_BURST] == [401] * LOGIN_BURST
    assert set(statuses[LOGIN_BURST:]) == {429}
    refused = flooder.post("/login", {"name": "test-staff", "password": PASSWORDS["staff"]})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Too many login attempts" in refused.text, "even the right password waits: the address is limited"

    # Only the three attempts before the limit counted towards the lock-out (five lock it).
    colleague = ConsoleClient(limited.servers.console_url)
    colleague.http.mount("http://", FromAddress("127.0.0.16"))
    reply = colleague.log_in("test-staff", PASSWORDS["staff"])
    assert reply.status_code == 200 and "Log out" in reply.text


def test_forged_forwarded_for_headers_do_not_escape_the_limit(limited: RunningAssistant) -> None:
    """Without TRUSTED_PROXIES, X-Forwarded-For is anyone's to write, and ignored."""
    session = client("127.0.0.17")
    login = ConsoleClient(limited.servers.console_url)
    login.http = session
    login.get("/login")
    statuses = [
        login.post("/login", {"name": "nobody", "password": "x"}, headers={"X-Forwarded-For": f"198.51.100.{n}"})
        for n in range(LOGIN_BURST + 2)
    ]
    assert [s.status_code for s in statuses][-1] == 429


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(limited: RunningAssistant) -> None:
    """TRUSTED_PROXIES=1: the address the load balancer appended is the client; what a client
    wrote in front of it does not count."""
    port = free_port()
    env = {**limited.servers.env, "CONSOLE_PORT": str(port), "TRUSTED_PROXIES": "1"}
    console = ServerProcess(
        "console behind a proxy", [sys.executable, "-m", "console"], f"http://127.0.0.1:{port}/health", env,
        subprocess.DEVNULL,
    )  # fmt: skip
    console.start()
    try:
        wait_for(lambda: _up(console.ready_url), "the console did not start", timeout=60)
        login = ConsoleClient(f"http://127.0.0.1:{port}")
        login.get("/login")

        def attempt(forwarded_for: str) -> int:
            headers = {"X-Forwarded-For": forwarded_for}
            return login.post("/login", {"name": "nobody", "password": "x"}, headers=headers).status_code

        assert [attempt(f"198.51.100.{n}, 203.0.113.7") for n in range(LOGIN_BURST + 1)][-1] == 429
        assert attempt("203.0.113.8") == 401, "another client behind the same proxy is not limited"
    finally:
        console.stop()


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False
