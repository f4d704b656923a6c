"""Completes a visitor's "delete my data" as soon as the turn that confirmed it has been saved.

The action server records the request and sends `utter_data_erased`; Rasa saves the turn's
events when the turn ends, so the transcript can only be deleted after that. This wrapper
around Rasa's message handler notices the response going out and, once the handler has
returned, deletes the conversation under its lock (so no other turn of it runs meanwhile).
If that fails, the request stays recorded and the delivery worker completes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Sanic

from actions.privacy import erasure
from actions.privacy.actions import ERASED_RESPONSE

logger = logging.getLogger(__name__)

MessageHandler = Callable[[UserMessage], Awaitable[Any]]


class ErasureWatch(OutputChannel):
    """Passes every bot message through and notes whether the erasure confirmation was one."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.erasure_confirmed = False

    def name(self) -> str:
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if message.get("utter_action") == ERASED_RESPONSE:
            self.erasure_confirmed = True
        await self.inner.send_response(recipient_id, message)


class CompletingErasures:
    """Wraps Rasa's handler: after a turn that confirmed an erasure, erases the conversation."""

    def __init__(self, handler: MessageHandler) -> None:
        self._handler = handler
        self._app: Sanic | None = None

    def attach(self, app: Sanic) -> None:
        self._app = app

    async def __call__(self, message: UserMessage) -> None:
        watch = ErasureWatch(message.output_channel)
        message.output_channel = watch
        await self._handler(message)
        if watch.erasure_confirmed:
            await self.erase(message.sender_id)

    async def erase(self, sender_id: str) -> erasure.ErasureReport | None:
        """Under the conversation's lock; the staff API calls this too."""
        agent = getattr(self._app.ctx, "agent", None) if self._app else None
        try:
            async with agent.lock_store.lock(sender_id):
                return await asyncio.to_thread(erase_now, sender_id)
        except Exception:
            logger.exception("Erasure not completed now; the delivery worker will finish it")
            return None


def erase_now(sender_id: str, requested_by: str = "visitor", channel: str = "unknown") -> erasure.ErasureReport:
    report = erasure.request(sender_id, channel, requested_by)
    return erasure.complete(report.reference)
