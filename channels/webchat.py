"""Serves the web chat page at `/chat/` on the Rasa server itself.

Rasa mounts every channel's blueprint at `urljoin("/webhooks/", url_prefix)`; an absolute
prefix ("/chat") replaces the "/webhooks/" part, which puts the page at a URL a clinic can
link to, on the same origin as the socket.io endpoint (no CORS set-up needed).
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.clinic_config import CLINIC_FACTS, ClinicFacts

PAGE_DIR = Path(__file__).resolve().parents[1] / "webchat"


class WebChatPage(InputChannel):
    """The page and its assets; the messages themselves go over the socket.io channel."""

    def __init__(self, facts: ClinicFacts | None = None) -> None:
        self.facts = facts or CLINIC_FACTS
        self.template = (PAGE_DIR / "index.html").read_text(encoding="utf-8")

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def url_prefix(self) -> str:
        return "/chat"

    def page(self) -> str:
        """The page titled with the clinic's current name (clinic.yml is re-read when it changes)."""
        title = html.escape(f"{self.facts.current().name} · Chat")
        return self.template.replace("{{title}}", title)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        page = Blueprint("webchat_page", __name__)

        @page.route("/", methods=["GET"])
        async def show_page(_: Request) -> HTTPResponse:
            return response.html(self.page(), headers={"Cache-Control": "no-cache"})

        page.static("/assets", str(PAGE_DIR), name="webchat_assets")
        return page
