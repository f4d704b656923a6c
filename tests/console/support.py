"""Staff accounts and a logged-in HTTP client for the console tests."""

from __future__ import annotations

import re

import requests

from console import accounts
from tests.support import RunningAssistant

PASSWORDS = {"staff": "staff-password-1", "clinician": "clinician-password-1", "admin": "admin-password-1"}
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def ensure_accounts(assistant: RunningAssistant) -> dict[str, str]:
    """One account per role (named after it) in the running assistant's records database."""
    url = f"sqlite:///{assistant.records_db}"
    for role, password in PASSWORDS.items():
        accounts.save_account(f"test-{role}", role, password, actor="tests", url=url)
    return {role: f"test-{role}" for role in PASSWORDS}


class ConsoleClient:
    """A browser-like session on the console: cookies, and the CSRF token of the last page."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.csrf: str | None = None

    def get(self, path: str, **kwargs) -> requests.Response:
        reply = self.http.get(self.base_url + path, timeout=30, **kwargs)
        if found := CSRF_FIELD.search(reply.text):
            self.csrf = found.group(1)
        return reply

    def post(self, path: str, data: dict | None = None, csrf: bool = True, **kwargs) -> requests.Response:
        form = dict(data or {})
        if csrf:
            form["csrf"] = self.csrf
        reply = self.http.post(self.base_url + path, data=form, timeout=30, **kwargs)
        if found := CSRF_FIELD.search(reply.text):
            self.csrf = found.group(1)
        return reply

    def log_in(self, name: str, password: str) -> requests.Response:
        self.get("/login")
        return self.post("/login", {"name": name, "password": password})


def logged_in(assistant: RunningAssistant, role: str) -> ConsoleClient:
    client = ConsoleClient(assistant.servers.console_url)
    reply = client.log_in(f"test-{role}", PASSWORDS[role])
    assert reply.status_code == 200 and "Log out" in reply.text, reply.text[:500]
    return client
