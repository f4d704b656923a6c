"""Only the buttons the assistant offered are commands; anything else a visitor types is text.

Rasa reads any message that starts with "/" as an intent written out: "/restart" restarts the
conversation (every slot, the pre-screen's outcome included, is wiped), "/session_start" starts
a new session, and '/book_consultation{"name": "x"}' forges an intent with confidence 1.0 and
entities of the sender's choosing, without NLU. Buttons rely on exactly that: their payloads
are such commands. So a "/" message is let through as a command only if it is the payload of
a button the assistant offered in its last turn of that conversation; otherwise its leading
slashes (and spaces) are removed and NLU reads what is left as ordinary text: a visitor who
types "/restart" has written "restart".

Only messages starting with "/" pay for the check (one tracker read, under the conversation's
lock so an answer still being written is waited for). Commands a channel composes itself (the
web chat's greeting of a new visitor, WhatsApp's "/share_media" for a photo) are
`ServerCommand`s, which no client can make.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.events import BotUttered, Event, UserUttered
from sanic import Sanic

LEADING_SLASHES = re.compile(r"^[\s/]+")


class ServerCommand(UserMessage):
    """A command a channel sends on the visitor's behalf: never their own text, always a command."""


def is_command(text: str | None) -> bool:
    """As Rasa decides it: the stripped text starts with "/"."""
    return (text or "").strip().startswith(INTENT_MESSAGE_PREFIX)


def as_text(text: str) -> str:
    return LEADING_SLASHES.sub("", text)


def offered_payloads(events: Iterable[Event]) -> set[str]:
    """The payloads of the buttons in the assistant's messages since the visitor last wrote."""
    payloads: set[str] = set()
    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            data: dict[str, Any] = event.data or {}
            for button in [*(data.get("buttons") or []), *(data.get("quick_replies") or [])]:
                if isinstance(button, dict) and isinstance(button.get("payload"), str):
                    payloads.add(button["payload"].strip())
    return payloads


class OfferedCommands:
    """Turns a "/" message into plain text unless it is an offered button's payload."""

    def __init__(self) -> None:
        self._app: Sanic | None = None

    def attach(self, app: Sanic) -> None:
        self._app = app

    async def admit(self, message: UserMessage) -> None:
        """Leaves the message as it is, or rewrites its text so Rasa reads it as text."""
        if isinstance(message, ServerCommand) or not is_command(message.text):
            return
        if message.text.strip() in await self._offered(message.sender_id):
            return
        message.text = as_text(message.text)

    async def _offered(self, sender_id: str) -> set[str]:
        agent = getattr(self._app.ctx, "agent", None) if self._app else None
        if agent is None or agent.tracker_store is None:
            return set()
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.tracker_store.retrieve(sender_id)
        return offered_payloads(tracker.events) if tracker is not None else set()
