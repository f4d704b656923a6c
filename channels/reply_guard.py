"""Never leave a visitor without an answer when the action server is down.

When a custom action cannot reach the action server, Rasa logs the error and carries on with
no reply at all. The guard watches each turn's output; if the turn sent nothing and the action
server does not answer its health check, it sends a short apology instead. The health check
runs only on silent turns, so normal turns pay nothing for it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Sanic

logger = logging.getLogger(__name__)

APOLOGY = (
    "Sorry, part of our assistant is not responding right now, so I can't complete that. "
    "Please try again in a minute, or call the clinic if it's urgent."
)
HEALTH_TIMEOUT_SECONDS = 1.5

MessageHandler = Callable[[UserMessage], Awaitable[Any]]


class CountingOutputChannel(OutputChannel):
    """Passes every bot message through to the real channel and counts them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> str:  # response variations are chosen per channel name
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)


class ActionServerProbe:
    """Asks the action server's `/health` endpoint whether it is up."""

    def __init__(self) -> None:
        self._app: Sanic | None = None

    def attach(self, app: Sanic) -> None:
        self._app = app

    def health_url(self) -> str | None:
        agent = getattr(self._app.ctx, "agent", None) if self._app else None
        endpoint = getattr(agent, "action_endpoint", None)
        if endpoint is None or not endpoint.url:
            return None
        return endpoint.url.rstrip("/").rsplit("/", 1)[0] + "/health"

    async def is_up(self) -> bool:
        url = self.health_url()
        if url is None:
            return False
        try:
            timeout = aiohttp.ClientTimeout(total=HEALTH_TIMEOUT_SECONDS)
            async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False


class ReplyGuard:
    """Wraps Rasa's message handler; apologises for turns lost to a down action server."""

    def __init__(self, handler: MessageHandler, probe: ActionServerProbe) -> None:
        self._handler = handler
        self._probe = probe

    async def __call__(self, message: UserMessage) -> None:
        counter = CountingOutputChannel(message.output_channel)
        message.output_channel = counter
        await self._handler(message)
        if counter.sent == 0 and not await self._probe.is_up():
            logger.warning("Action server unreachable; apologised to %s", message.sender_id)
            await counter.send_response(message.sender_id, {"text": APOLOGY})
