"""Rasa's REST and socket.io channels, with the reply guard around every turn.

They keep Rasa's names ("rest", "socketio"), so URLs, the tracker's `input_channel` and
channel-specific responses stay exactly as Rasa documents them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, Sanic

from channels.reply_guard import ActionServerProbe, PausedConversations, ReplyGuard

Handler = Callable[[UserMessage], Awaitable[Any]]


def guarded(blueprint_factory: Callable[[Handler], Blueprint], on_new_message: Handler) -> Blueprint:
    """Builds a channel's blueprint around a guarded handler bound to the running server."""
    probe = ActionServerProbe()
    paused = PausedConversations()
    blueprint = blueprint_factory(ReplyGuard(on_new_message, probe, paused))

    @blueprint.listener("before_server_start")
    async def attach_to_server(app: Sanic, _loop: Any) -> None:
        probe.attach(app)
        paused.attach(app)

    return blueprint


class RestChannel(RestInput):
    """`POST /webhooks/rest/webhook`, answered with the bot's messages as a JSON list."""

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return guarded(super().blueprint, on_new_message)


class SocketIOChannel(SocketIOInput):
    """The socket.io endpoint the web chat page talks to."""

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return guarded(super().blueprint, on_new_message)
