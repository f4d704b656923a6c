"""Rasa's REST and socket.io channels, with the reply guard around every turn.

They keep Rasa's names ("rest", "socketio"), so URLs, the tracker's `input_channel` and
channel-specific responses stay exactly as Rasa documents them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.erasure import CompletingErasures
from channels.reply_guard import ActionServerProbe, PausedConversations, ReplyGuard

Handler = Callable[[UserMessage], Awaitable[Any]]


def guarded(blueprint_factory: Callable[[Handler], Blueprint], on_new_message: Handler) -> Blueprint:
    """Builds a channel's blueprint around a guarded handler bound to the running server."""
    probe = ActionServerProbe()
    paused = PausedConversations()
    erasures = CompletingErasures(on_new_message)
    blueprint = blueprint_factory(ReplyGuard(erasures, probe, paused))

    @blueprint.listener("before_server_start")
    async def attach_to_server(app: Sanic, _loop: Any) -> None:
        probe.attach(app)
        paused.attach(app)
        erasures.attach(app)

    return blueprint


MAX_BODY_BYTES = 64 * 1024
MAX_SENDER_CHARS = 255  # the tracker store's sender_id column
REST_BODY = 'Send a JSON object: {"sender": "<conversation id>", "message": "<text>"}.'


def rest_refusal(request: Request) -> HTTPResponse | None:
    """A clear 4xx for a body the REST channel cannot use (it never reaches Rasa or its store);
    None for a usable one. Messages too long to read are answered by the reply guard."""
    if len(request.body or b"") > MAX_BODY_BYTES:
        return response.json({"error": f"The body is over {MAX_BODY_BYTES // 1024} KB. {REST_BODY}"}, status=413)
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        return response.json({"error": f"The body is not valid JSON. {REST_BODY}"}, status=400)
    if not isinstance(body, dict):
        return response.json({"error": REST_BODY}, status=400)
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        return response.json({"error": f"'sender' must be 1 to {MAX_SENDER_CHARS} characters. {REST_BODY}"}, 400)
    if not isinstance(message, str) or not message.strip():
        return response.json({"error": f"'message' must be a non-empty text. {REST_BODY}"}, status=400)
    return None


class RestChannel(RestInput):
    """`POST /webhooks/rest/webhook`, answered with the bot's messages as a JSON list."""

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        blueprint = guarded(super().blueprint, on_new_message)

        @blueprint.middleware("request")
        async def check_body(request: Request) -> HTTPResponse | None:
            if request.method == "POST" and request.path.endswith("/webhook"):
                return rest_refusal(request)
            return None

        return blueprint


class SocketIOChannel(SocketIOInput):
    """The socket.io endpoint the web chat page talks to."""

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return guarded(super().blueprint, on_new_message)
