"""A message the client sent twice is answered once: the retry gets the first answer again.

With several Rasa servers a message can be sent twice without anyone meaning to: the load
balancer retries a request whose server died without answering, and the web chat page sends a
message again when its connection broke before the reply came. If the first server had stored
the turn before dying, running it again would answer twice (and book twice).

A client that names its message (`"message_id"` in a REST body or a socket.io `user_uttered`)
gets at-most-once turns: under the conversation's lock, the transcript is checked for a
message with that id; if it is there, its stored replies are sent again and no turn runs.
Messages without an id run as Rasa runs them, with no extra tracker read.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

CLIENT_MESSAGE_ID = "client_message_id"  # the metadata key the channels put a valid id under
VALID_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")

Handler = Callable[[UserMessage], Awaitable[Any]]


def client_message_id(value: Any) -> dict[str, str] | None:
    """Metadata carrying the client's id for its message, or None for a missing or odd one."""
    return {CLIENT_MESSAGE_ID: value} if isinstance(value, str) and VALID_ID.fullmatch(value) else None


def earlier_replies(tracker: DialogueStateTracker | None, message_id: str) -> list[BotUttered] | None:
    """The bot messages that answered the message with this id, or None if it never ran."""
    if tracker is None:
        return None
    replies: list[BotUttered] | None = None
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if (event.metadata or {}).get(CLIENT_MESSAGE_ID) == message_id:
                replies = []
        elif isinstance(event, BotUttered) and replies is not None:
            replies.append(event)
    return replies


class OnceOnly:
    """Rasa's message handler (`agent.handle_message`), checking a named message first."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._app: Sanic | None = None

    def attach(self, app: Sanic) -> None:
        self._app = app

    async def __call__(self, message: UserMessage) -> Any:
        message_id = (message.metadata or {}).get(CLIENT_MESSAGE_ID)
        agent = getattr(self._app.ctx, "agent", None) if self._app else None
        if not message_id or agent is None or not agent.is_ready():
            return await self._handler(message)
        async with agent.lock_store.lock(message.sender_id):  # the same lock agent.handle_message takes
            replies = earlier_replies(await agent.tracker_store.retrieve(message.sender_id), message_id)
            if replies is None:
                return await agent.processor.handle_message(message)
            for reply in replies:
                data = {key: value for key, value in (reply.data or {}).items() if value}
                await message.output_channel.send_response(message.sender_id, {"text": reply.text, **data})
            return None
