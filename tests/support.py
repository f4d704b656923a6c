"""A handle on the running assistant for tests: talk to it as a visitor, read it as staff."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tools.servers import AssistantServers

API_TOKEN = "test-token"
STAFF_TOKEN = "staff-test-token"
WEBHOOK_SECRET = "webhook-test-secret"
WHATSAPP = {
    "WHATSAPP_VERIFY_TOKEN": "verify-test-token",
    "WHATSAPP_APP_SECRET": "whatsapp-test-app-secret",
    "WHATSAPP_ACCESS_TOKEN": "whatsapp-test-access-token",
    "WHATSAPP_PHONE_NUMBER_ID": "109876543210",
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
