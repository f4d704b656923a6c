"""Two Rasa servers behind HAProxy on PostgreSQL and Redis, started as `make run-cluster` starts
them (tools/cluster.py), on a PostgreSQL and a Redis of the test's own so that the fault tests
can stop them. The tests run in file order: the faults come last, the killed server last of all."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from channels.reply_guard import NOT_STORED
from tests.cluster.services import PrivatePostgres, PrivateRedis
from tests.support import API_TOKEN, STAFF_TOKEN, UNLIMITED, WebChatVisitor, wait_for
from tools.cluster import Cluster, ClusterSettings
from tools.servers import free_port

pytestmark = pytest.mark.servers

QUESTIONS = [
    "how much does a full face session cost?",
    "how long is the downtime afterwards?",
    "does the laser hurt?",
    "how many sessions will I need?",
    "can it help with acne scars?",
    "what should I do for aftercare?",
    "what are the risks?",
    "when will I see results?",
]


@pytest.fixture(scope="module")
def stores() -> Iterator[SimpleNamespace]:
    postgres, redis_server = PrivatePostgres(), PrivateRedis()
    postgres.start()
    redis_server.start()
    try:
        yield SimpleNamespace(postgres=postgres, redis=redis_server)
    finally:
        redis_server.stop()
        postgres.remove()


@pytest.fixture(scope="module")
def cluster(
    trained_model: Path, stores: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    work = tmp_path_factory.mktemp("cluster")
    settings = ClusterSettings(
        model=trained_model,
        servers=2,
        port=free_port(),
        console_port=free_port(),
        rasa_ports=[free_port(), free_port()],
        action_ports=[free_port(), free_port()],
        database_url=stores.postgres.url("records"),
        tracker_url=stores.postgres.url("tracker"),
        redis_url=stores.redis.url,
        redis_prefix="test",
        work=work,
        auth_token=API_TOKEN,
        extra_env={
            "STAFF_TOKEN": STAFF_TOKEN,
            "WEBCHAT_SECRET": "webchat-test-secret",
            "CONSOLE_SECRET": "console-test-secret",
            **UNLIMITED,
        },
    )
    with (work / "servers.log").open("wb") as log:
        running = Cluster(settings, log=log)
        running.start(timeout_seconds=600)
        try:
            yield running
        finally:
            running.stop()


def say(url: str, sender: str, text: str, session: requests.Session | None = None) -> list[dict]:
    """One message over REST, named (as the web chat page names its messages), so that the
    load balancer's retry of a request a dead server never answered runs it once."""
    body = {"sender": sender, "message": text, "message_id": uuid.uuid4().hex}
    reply = (session or requests).post(f"{url}/webhooks/rest/webhook", json=body, timeout=60)
    reply.raise_for_status()
    return reply.json()


def tracker_events(cluster: Cluster, sender: str) -> list[dict]:
    reply = requests.get(f"{cluster.url}/conversations/{sender}/tracker", params={"token": API_TOKEN}, timeout=30)
    reply.raise_for_status()
    return reply.json()["events"]


def turns(events: list[dict]) -> list[tuple[str, int]]:
    """Each visitor message with the number of bot messages that answered it before the next."""
    result: list[tuple[str, int]] = []
    for event in events:
        if event["event"] == "user":
            result.append((event["text"], 0))
        elif event["event"] == "bot" and result:
            result[-1] = (result[-1][0], result[-1][1] + 1)
    return result


def backend_url(cluster: Cluster, number: int) -> str:
    return f"http://127.0.0.1:{cluster.settings.rasa_ports[number]}"


def test_the_web_chat_works_through_the_load_balancer(cluster: Cluster) -> None:
    page = requests.get(f"{cluster.url}/chat/", timeout=10)
    assert page.status_code == 200 and "socket.io" in page.text
    visitor = WebChatVisitor(SimpleNamespace(url=cluster.url))
    try:
        visitor.start()
        answer = " ".join(message.get("text", "") for message in visitor.says("how much does it cost?"))
        assert "£" in answer
        assert visitor.sio.eio.http.cookies.get("RASA_SERVER") in ("rasa1", "rasa2"), "the connection is pinned"
    finally:
        visitor.close()


def test_messages_of_one_conversation_reaching_two_servers_run_in_turn_and_none_is_lost(cluster: Cluster) -> None:
    sender = "cluster-visitor-order"
    say(cluster.url, sender, "hello")
    replies: dict[str, list[dict]] = {}

    def send(number: int, text: str) -> None:
        replies[text] = say(backend_url(cluster, number % 2), sender, text)

    threads = [threading.Thread(target=send, args=(n, text)) for n, text in enumerate(QUESTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(replies.get(text) for text in QUESTIONS), "every message was answered"
    answered = turns(tracker_events(cluster, sender))
    assert sorted(text for text, _ in answered) == sorted(["hello", *QUESTIONS]), "each message stored exactly once"
    assert all(count >= 1 for _, count in answered), "a turn started before the previous one had answered"


def test_a_staff_reply_reaches_the_visitor_through_another_server(cluster: Cluster) -> None:
    visitor = WebChatVisitor(SimpleNamespace(url=cluster.url))
    try:
        conversation = visitor.start()
        holder = visitor.sio.eio.http.cookies.get("RASA_SERVER")
        other = backend_url(cluster, 1 if holder == "rasa1" else 0)
        requests.post(
            f"{other}/conversations/{conversation}/tracker/events",
            params={"token": API_TOKEN},
            json={"event": "pause"},
            timeout=30,
        ).raise_for_status()
        before = len(visitor.heard)
        reply = requests.post(
            f"{other}/staff/conversations/{conversation}/reply",
            headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
            json={"author": "Anna", "text": "Hello, this is Anna from the clinic."},
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        wait_for(lambda: len(visitor.heard) > before, "the staff reply never reached the visitor", 15)
        assert visitor.heard[-1]["text"] == "Hello, this is Anna from the clinic."
    finally:
        visitor.close()


def test_while_postgresql_restarts_visitors_get_an_apology_and_it_recovers_by_itself(
    cluster: Cluster, stores: SimpleNamespace
) -> None:
    sender = "cluster-visitor-postgres"
    say(cluster.url, sender, "hello")
    stores.postgres.stop()
    try:
        answer = say(cluster.url, sender, "does the laser hurt?")
        assert [message.get("text") for message in answer] == [NOT_STORED]
    finally:
        stores.postgres.start()
    deadline = time.monotonic() + 60
    while NOT_STORED in [message.get("text") for message in say(cluster.url, sender, "does the laser hurt?")]:
        assert time.monotonic() < deadline, "the assistant did not recover after PostgreSQL came back"
        time.sleep(0.5)
    assert [text for text, _ in turns(tracker_events(cluster, sender))][-1] == "does the laser hurt?"


def test_without_redis_no_turn_runs_and_it_recovers_when_redis_is_back(
    cluster: Cluster, stores: SimpleNamespace
) -> None:
    sender = "cluster-visitor-redis"
    say(cluster.url, sender, "hello")
    stores.redis.stop()
    try:
        for number in range(2):  # both servers refuse: fail closed, no unlocked turn
            answer = say(backend_url(cluster, number), sender, "how many sessions will I need?")
            assert [message.get("text") for message in answer] == [NOT_STORED]
    finally:
        stores.redis.start()
    assert [text for text, _ in turns(tracker_events(cluster, sender))] == ["hello"], "nothing ran without a lock"
    deadline = time.monotonic() + 60
    while NOT_STORED in [message.get("text") for message in say(cluster.url, sender, "how many sessions will I need?")]:
        assert time.monotonic() < deadline, "the assistant did not recover after Redis came back"
        time.sleep(0.5)


# Last: the killed server stays down.
def test_killing_a_rasa_server_mid_chat_under_load_loses_no_message_and_answers_none_twice(
    cluster: Cluster, browser: Browser
) -> None:
    visitors = [f"cluster-load-{number}" for number in range(6)]
    errors: list[str] = []

    def chat(sender: str) -> None:
        with requests.Session() as session:
            for text in QUESTIONS[:6]:
                try:
                    answer = [message.get("text") for message in say(cluster.url, sender, text, session)]
                    if not answer or NOT_STORED in answer:
                        errors.append(f"{sender}: {text!r} got {answer}")
                except requests.RequestException as error:
                    errors.append(f"{sender}: {error}")

    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{cluster.url}/chat/")
        expect(page.locator(".msg--bot")).not_to_have_count(0, timeout=60_000)  # the greeting
        ask(page, "can it help with acne scars?")
        conversation = page.evaluate("() => Object.values(localStorage)[0]")
        pinned = {cookie["name"]: cookie["value"] for cookie in context.cookies()}["RASA_SERVER"]
        threads = [threading.Thread(target=chat, args=(sender,)) for sender in visitors]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        victim = cluster.nodes[0 if pinned == "rasa1" else 1].rasa_server
        os.killpg(victim.process.pid, signal.SIGKILL)
        victim.process.wait(timeout=10)
        ask(page, "how long is the downtime afterwards?")  # the page reconnects to the live server
        for thread in threads:
            thread.join(timeout=180)
        assert errors == []
        for sender in visitors:
            answered = turns(tracker_events(cluster, sender))
            assert [text for text, _ in answered] == QUESTIONS[:6], "each message stored once, in order"
            assert all(count >= 1 for _, count in answered)
        texts = [text for text, _ in turns(tracker_events(cluster, conversation))]
        assert texts[-2:] == ["can it help with acne scars?", "how long is the downtime afterwards?"]
        assert texts.count("how long is the downtime afterwards?") == 1
    finally:
        context.close()


def ask(page: Page, text: str) -> None:
    """Types a message in the page and waits for the assistant's answer to appear."""
    answers = page.locator(".msg--bot").count()
    page.get_by_label("Your message").fill(text)
    page.keyboard.press("Enter")
    expect(page.locator(".msg--bot")).not_to_have_count(answers, timeout=60_000)
