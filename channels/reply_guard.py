"""What a visitor sees when the assistant itself has nothing to say, or cannot read the message.

Three kinds of turn end without a reply: the conversation is paused because it was handed to
a person (Rasa records the message but predicts nothing), a custom action could not reach
the action server (Rasa logs it and carries on silently), or the turn failed because the
tracker store or the lock store is down (Rasa's channels log it and answer nothing). The
guard watches each turn's output; after a silent turn it acknowledges a paused conversation
once ("a member of our team will reply"), or apologises if the action server is down. A
failed turn stored nothing, so the visitor is asked to send the message again. Only silent turns pay for
these checks. A message longer than MAX_MESSAGE_CHARS gets a polite reply and no turn, so
nothing of it is stored. A message starting with "/" is a command only if it is an offered
button's payload (channels/commands.py); otherwise Rasa gets it as text.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, ConversationPaused
from sanic import Sanic

from channels.commands import OfferedCommands
from channels.redact import conversation_ref

logger = logging.getLogger(__name__)

APOLOGY = (
    "Sorry, part of our assistant is not responding right now, so I can't complete that. "
    "Please try again in a minute, or call the clinic if it's urgent."
)
PAUSED_ACKNOWLEDGEMENT = (
    "Thanks, I've added your message to the conversation. A member of our team will reply; until then I'll stay quiet."
)
HEALTH_TIMEOUT_SECONDS = 1.5
MAX_MESSAGE_CHARS = 2000  # on every channel: longer messages are neither read nor stored
TOO_LONG = (
    f"Sorry, that message is too long for me (the limit is {MAX_MESSAGE_CHARS:,} characters). "
    "Could you send it in shorter parts, or ask for a member of the team?"
)

NOT_STORED = (
    "Sorry, I'm having a technical problem and couldn't take in your last message. "
    "Please send it again in a minute, or call the clinic if it's urgent."
)

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


class PausedConversations:
    """Acknowledges, once per pause, messages sent while a person has the conversation."""

    def __init__(self) -> None:
        self._app: Sanic | None = None

    def attach(self, app: Sanic) -> None:
        self._app = app

    async def acknowledge(self, sender_id: str, output: OutputChannel) -> bool:
        """True if the conversation is paused (acknowledged now or already)."""
        agent = getattr(self._app.ctx, "agent", None) if self._app else None
        if agent is None or agent.tracker_store is None:
            return False
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.tracker_store.retrieve(sender_id)
            if tracker is None or not tracker.is_paused():
                return False
            if not self._acknowledged_since_pause(tracker.events):
                await output.send_response(sender_id, {"text": PAUSED_ACKNOWLEDGEMENT})
                tracker.update(BotUttered(PAUSED_ACKNOWLEDGEMENT))
                await agent.tracker_store.save(tracker)
        return True

    @staticmethod
    def _acknowledged_since_pause(events) -> bool:
        for event in reversed(list(events)):
            if isinstance(event, ConversationPaused):
                return False
            if isinstance(event, BotUttered) and event.text == PAUSED_ACKNOWLEDGEMENT:
                return True
        return False


class ReplyGuard:
    """Wraps Rasa's message handler and answers for the turns that would stay silent."""

    def __init__(
        self,
        handler: MessageHandler,
        probe: ActionServerProbe,
        paused: PausedConversations,
        commands: OfferedCommands,
    ) -> None:
        self._handler = handler
        self._probe = probe
        self._paused = paused
        self._commands = commands

    async def __call__(self, message: UserMessage) -> None:
        if len(message.text or "") > MAX_MESSAGE_CHARS:  # answered without a turn: nothing is stored
            await message.output_channel.send_response(message.sender_id, {"text": TOO_LONG})
            return
        if message.text and "\x00" in message.text:  # PostgreSQL cannot store NUL in text (the tracker store)
            message.text = message.text.replace("\x00", "")
        counter = CountingOutputChannel(message.output_channel)
        message.output_channel = counter
        try:
            await self._commands.admit(message)
            await self._handler(message)
        except Exception:  # the tracker store or the lock store is down: say so, rather than nothing
            logger.exception("Turn failed for %s; asked the visitor to send again", conversation_ref(message.sender_id))
            await counter.send_response(message.sender_id, {"text": NOT_STORED})
            return
        if counter.sent:
            return
        if await self._paused.acknowledge(message.sender_id, counter):
            return
        if not await self._probe.is_up():
            logger.warning("Action server unreachable; apologised to %s", conversation_ref(message.sender_id))
            await counter.send_response(message.sender_id, {"text": APOLOGY})
