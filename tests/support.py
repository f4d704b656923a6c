"""A handle on the running assistant for tests: talk to it as a visitor, read it as staff."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from requests.adapters import HTTPAdapter

from tests.whatsapp.simulator import GraphSimulator
from tools.servers import PROJECT_ROOT, AssistantServers, StartupError, free_port

API_TOKEN = "test-token"
STAFF_TOKEN = "staff-test-token"
WEBHOOK_SECRET = "webhook-test-secret"
WHATSAPP = {
    "WHATSAPP_VERIFY_TOKEN": "verify-test-token",
    "WHATSAPP_APP_SECRET": "whatsapp-test-app-secret",
    "WHATSAPP_ACCESS_TOKEN": "whatsapp-test-access-token",
    "WHATSAPP_PHONE_NUMBER_ID": "109876543210",
}
QUIET_SECONDS = 1.0  # nothing more from the assistant for this long: the turn is over
# The whole suite talks to one assistant from 127.0.0.1, far faster than any person: limits
# no ordinary test reaches. tests/http/test_rate_limits.py starts its own with low ones.
UNLIMITED = {
    f"RATE_LIMIT_{name}_{part}": value
    for name in ("CLIENT", "CONVERSATION", "LOGIN")
    for part, value in (("BURST", "1000000"), ("PER_MINUTE", "1000000"))
}


@dataclass
class RunningAssistant:
    servers: AssistantServers
    clinic_file: Path
    tracker_db: Path
    log_file: Path
    records_db: Path

    @property
    def url(self) -> str:
        return self.servers.url

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """One visitor message over the REST channel; the bot's replies as Rasa sends them."""
        reply = requests.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=30)
        reply.raise_for_status()
        return reply.json()

    def texts(self, sender: str, text: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(sender, text))

    def tracker(self, sender: str) -> dict[str, Any]:
        reply = requests.get(f"{self.url}/conversations/{sender}/tracker", params={"token": API_TOKEN}, timeout=30)
        reply.raise_for_status()
        return reply.json()

    def staff(self, method: str, path: str, token: str | None = STAFF_TOKEN) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, f"{self.url}/staff{path}", headers=headers, timeout=30)

    def restart(self, server_name: str) -> None:
        server = getattr(self.servers, server_name)
        server.stop()
        server.start()
        self.servers.wait_until_ready(180)


@contextmanager
def meta_simulator() -> Iterator[GraphSimulator]:
    """Meta's Graph API for the WhatsApp channel, with the test app's credentials; it posts
    webhooks to the assistant once told where (`webhook_url`)."""
    simulator = GraphSimulator(
        app_secret=WHATSAPP["WHATSAPP_APP_SECRET"],
        access_token=WHATSAPP["WHATSAPP_ACCESS_TOKEN"],
        phone_number_id=WHATSAPP["WHATSAPP_PHONE_NUMBER_ID"],
    )
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()


@contextmanager
def running_assistant(model: Path, work: Path, extra_env: dict[str, str]) -> Iterator[RunningAssistant]:
    """The assistant started exactly as `make run` starts it, on free local ports, with its own
    copy of clinic.yml, tracker store, records database and log file under `work`."""
    clinic_file = work / "clinic.yml"
    shutil.copy(PROJECT_ROOT / "clinic.yml", clinic_file)
    tracker_db = work / "tracker.db"
    action_port = free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{action_port}/webhook\n"
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tracker_db}\n",
        encoding="utf-8",
    )
    log_file = work / "servers.log"
    with log_file.open("wb") as log:
        servers = AssistantServers(
            model=model,
            endpoints=endpoints,
            rasa_port=free_port(),
            action_port=action_port,
            console_port=free_port(),
            auth_token=API_TOKEN,
            log=log,
            extra_env={
                "CLINIC_CONFIG": str(clinic_file),
                "DATABASE_URL": f"sqlite:///{work / 'clinic.db'}",
                "STAFF_TOKEN": STAFF_TOKEN,
                "CONSOLE_SECRET": "console-test-secret",
                "WEBCHAT_SECRET": "webchat-test-secret",
                **extra_env,
            },
        )
        try:
            servers.start()
        except StartupError as error:
            pytest.fail(f"{error}\n--- server log ---\n{log_file.read_text(errors='replace')[-5000:]}")
        try:
            yield RunningAssistant(servers, clinic_file, tracker_db, log_file, work / "clinic.db")
        finally:
            servers.stop()


class FromAddress(HTTPAdapter):
    """Connects from a given local address, as a different client would."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


class WebChatVisitor:
    """A socket.io client as the web chat page is one: polling, a session, user_uttered events."""

    def __init__(self, assistant: RunningAssistant, address: str = "127.0.0.1") -> None:
        self.heard: list[dict] = []
        self.session_id: str | None = None
        self.sio = socketio.Client(http_session=client(address), reconnection=False)
        self.sio.on("bot_uttered", self.heard.append)
        self.sio.on("session_confirm", self._confirmed)
        self.sio.connect(assistant.url, transports=["polling"], socketio_path="/socket.io", wait_timeout=10)

    def _confirmed(self, session_id: str) -> None:
        self.session_id = session_id

    def start(self, session_id: object = None) -> str:
        """Asks for a session (with a stored id, or none); a new one is greeted, and that is awaited."""
        self.session_id = None
        before = len(self.heard)
        self.sio.emit("session_request", {"session_id": session_id})
        wait_for(lambda: self.session_id is not None, "no session_confirm")
        if self.session_id != session_id:
            wait_for(lambda: len(self.heard) > before, "a new conversation starts with a greeting")
            self.quiet()
        return self.session_id

    def says(self, text: str, timeout: float = 30, **extra: object) -> list[dict]:
        """What the assistant sent back: everything until it has been quiet for a second."""
        before = len(self.heard)
        self.sio.emit("user_uttered", {"message": text, **extra})
        wait_for(lambda: len(self.heard) > before, f"no answer to {text!r}", timeout)
        self.quiet()
        return self.heard[before:]

    def quiet(self) -> None:
        while True:
            seen = len(self.heard)
            time.sleep(QUIET_SECONDS)
            if len(self.heard) == seen:
                return

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


def wait_for(condition, failure: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)
