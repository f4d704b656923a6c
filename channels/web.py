"""Rasa's REST and socket.io channels, with the reply guard around every turn and rate limits.

They keep Rasa's names ("rest", "socketio"), so URLs, the tracker's `input_channel` and
channel-specific responses stay exactly as Rasa documents them. A message over the per-client
or per-conversation limit (channels/rate_limit.py) is refused before Rasa sees it: it runs
no turn and is not stored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage, decode_bearer_token
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from channels.action_replies import validate_with_one_validator
from channels.commands import OfferedCommands, ServerCommand
from channels.erasure import CompletingErasures
from channels.fail_closed import fail_closed
from channels.once_only import OnceOnly, client_message_id
from channels.rate_limit import (
    SLOW_DOWN,
    client_address,
    retry_after,
    socket_client_address,
    trust_proxies,
    visitor_limits,
)
from channels.redact import redact_server_logs
from channels.reply_guard import ActionServerProbe, PausedConversations, ReplyGuard
from channels.web_sessions import SessionIds

Handler = Callable[[UserMessage], Awaitable[Any]]


def guarded(blueprint_factory: Callable[[Handler], Blueprint], on_new_message: Handler) -> Blueprint:
    """Builds a channel's blueprint around a guarded handler bound to the running server."""
    probe = ActionServerProbe()
    paused = PausedConversations()
    once_only = OnceOnly(on_new_message)
    erasures = CompletingErasures(once_only)
    commands = OfferedCommands()
    blueprint = blueprint_factory(ReplyGuard(erasures, probe, paused, commands))

    @blueprint.listener("before_server_start")
    async def attach_to_server(app: Sanic, _loop: Any) -> None:
        probe.attach(app)
        once_only.attach(app)
        paused.attach(app)
        erasures.attach(app)
        commands.attach(app)
        trust_proxies(app)
        redact_server_logs()

    @blueprint.listener("after_server_start")
    async def once_the_agent_is_loaded(app: Sanic, _loop: Any) -> None:
        fail_closed(app)
        validate_with_one_validator()

    return blueprint


MAX_BODY_BYTES = 64 * 1024
# A socket.io request (one or more packets) over this is refused by engine.io before it is
# decoded, and that connection is closed: Rasa's handler never sees it.
MAX_SOCKET_BYTES = MAX_BODY_BYTES
MAX_SENDER_CHARS = 255  # the tracker store's sender_id column
GREETING = "/greet"  # the web chat's first turn: the server greets each new conversation
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


def too_fast(wait_seconds: float) -> HTTPResponse | None:
    """429 with Retry-After for a message over a rate limit; None when it may go ahead."""
    if not wait_seconds:
        return None
    seconds = retry_after(wait_seconds)
    return response.json(
        {"error": f"Too many messages: please slow down and try again in {seconds} seconds."},
        status=429,
        headers={"Retry-After": str(seconds)},
    )


def shared_rooms() -> AsyncRedisManager | None:
    """With several Rasa servers (SOCKETIO_REDIS_URL set), an emit to a conversation's room
    reaches the visitor whichever server holds their connection: a staff reply sent through
    one server, or a turn a load balancer gave to another. None: this process's rooms only."""
    url = os.environ.get("SOCKETIO_REDIS_URL", "").strip()
    channel = os.environ.get("SOCKETIO_REDIS_CHANNEL", "clinic-socketio")
    return AsyncRedisManager(url, channel=channel) if url else None


class RestChannel(RestInput):
    """`POST /webhooks/rest/webhook`, answered with the bot's messages as a JSON list.

    An optional `"message_id"` (8 to 64 letters, digits, - or _) makes a repeated request
    answered from the transcript instead of running again (channels/once_only.py)."""

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        return client_message_id(request.json.get("message_id"))

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        blueprint = guarded(super().blueprint, on_new_message)
        limits = visitor_limits()

        @blueprint.middleware("request")
        async def check_request(request: Request) -> HTTPResponse | None:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            # The client's limit first (before reading the body), then the body, then the conversation's.
            refusal = too_fast(limits.wait_for_client(client_address(request))) or rest_refusal(request)
            return refusal or too_fast(limits.wait_for_conversation(self.name(), request.json["sender"]))

        return blueprint


class SocketReplies(SocketIOOutput):
    """Rasa's socket.io output, sending straight to a connection this server holds.

    With the Redis manager (a cluster) every emit is published through Redis, even to a
    connection in this very process: a round trip per reply, and while Redis is down or its
    subscriber reconnecting, nothing reaches the visitor, not even the apology. Only a room with
    no connection here (a staff reply to a page connected to another server) goes through Redis.
    """

    async def _send_message(self, socket_id: str, response: Any) -> None:
        here = bool(self.sio.manager.rooms.get("/", {}).get(socket_id))
        await self.sio.emit(self.bot_message_evt, response, room=socket_id, ignore_queue=here)


class SocketIOChannel(SocketIOInput):
    """The socket.io endpoint the web chat page talks to.

    Rasa's own blueprint is rebuilt here (same events and rooms) because every check has to
    happen before its handler runs: the size limit is engine.io's, set where the server is
    created; the rate limits need the client's address, which only the connection knows; and
    the conversation is the one the server gave this connection, never one the client names.

        session_request {"session_id": <stored id or null>}
            The server answers `session_confirm` with the id to use: the stored one if this
            server issued it (channels/web_sessions.py), else a new one, and greets a new
            visitor. The connection joins that id's room, where replies (and staff's) go.
        user_uttered {"message": <text>, "message_id": <optional id>}
            A turn in the connection's conversation; a `session_id` in it is ignored, and
            so is Rasa's client-set metadata (nothing a browser makes up is stored). The
            page names each message, so one it sends again after a reconnect runs once.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_ids = SessionIds.from_environment()

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return guarded(self._blueprint, on_new_message)

    def get_output_channel(self) -> SocketReplies | None:
        """Where staff replies go (channels/staff.py)."""
        return SocketReplies(self.sio, self.bot_message_evt) if self.sio else None

    def _blueprint(self, handler: Handler) -> Blueprint:
        # cors_allowed_origins=[] as in Rasa: engine.io leaves origins unchecked.
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=[],
            max_http_buffer_size=MAX_SOCKET_BYTES,
            client_manager=shared_rooms(),
        )
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio  # get_output_channel() sends staff replies through it
        limits = visitor_limits()
        namespace = self.namespace

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            if self.jwt_key and not self._valid_token(auth):
                return False
            await sio.save_session(sid, {"client": socket_client_address(environ)}, namespace=namespace)
            return True

        async def slow_down(sid: str) -> None:
            """No turn: the visitor is asked to slow down, on this connection only."""
            await sio.emit(self.bot_message_evt, {"text": SLOW_DOWN}, room=sid, namespace=namespace, ignore_queue=True)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any) -> None:
            session = await sio.get_session(sid, namespace=namespace)
            asked = data.get("session_id") if isinstance(data, dict) else None
            is_new = not self.session_ids.issued(asked)
            if is_new and limits.wait_for_client(session["client"]):  # each new one is a turn
                await slow_down(sid)
                return
            session_id = self.session_ids.issue() if is_new else asked
            for room in sio.rooms(sid, namespace=namespace):
                if room != sid:  # a connection speaks for one conversation at a time
                    sio.leave_room(sid, room, namespace=namespace)
            sio.enter_room(sid, session_id, namespace=namespace)
            await sio.save_session(sid, {**session, "session_id": session_id}, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace, ignore_queue=True)
            if is_new:
                output = SocketReplies(sio, self.bot_message_evt)
                await handler(ServerCommand(GREETING, output, session_id, input_channel=self.name()))

        @sio.on(self.user_message_evt, namespace=namespace)
        async def user_message(sid: str, data: Any) -> None:
            session = await sio.get_session(sid, namespace=namespace)
            session_id = session.get("session_id")
            if not isinstance(data, dict) or not isinstance(data.get("message"), str) or not session_id:
                return  # the page always asks for a session first
            if limits.wait_for_client(session["client"]) or limits.wait_for_conversation(self.name(), session_id):
                await slow_down(sid)
                return
            output = SocketReplies(sio, self.bot_message_evt)
            named = client_message_id(data.get("message_id"))
            await handler(UserMessage(data["message"], output, session_id, input_channel=self.name(), metadata=named))

        return blueprint

    def _valid_token(self, auth: dict | None) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))
