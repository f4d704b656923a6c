"""The WhatsApp Business Cloud API channel: Meta's webhook in, Graph API messages out.

    GET  /webhooks/whatsapp/webhook   Meta's verification handshake (WHATSAPP_VERIFY_TOKEN)
    POST /webhooks/whatsapp/webhook   messages and statuses, signed with WHATSAPP_APP_SECRET

A POST is answered as soon as its signature is checked and its message ids are stored;
the turn runs afterwards. Meta retries slow answers for days, so a turn inside the request
would bring duplicates; the stored id (a unique key) turns every redelivery into a no-op.
Turns for one visitor run one after another, in the order Meta delivered them. A visitor over
the per-conversation rate limit gets no turn for the extra messages, only a "please wait a
moment" (once a minute at most); Meta still gets its 200 at once.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import UserUttered
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.commands import ServerCommand
from channels.rate_limit import NOTICE, SLOW_DOWN, RateLimiter, visitor_limits
from channels.redact import conversation_ref
from channels.web import guarded
from channels.whatsapp import store
from channels.whatsapp.courier import Courier
from channels.whatsapp.graph import GraphClient
from channels.whatsapp.render import compose_turn, text_message
from channels.whatsapp.settings import REQUIRED, WhatsAppSettings, settings_from_env
from channels.whatsapp.webhook import SIGNATURE_HEADER, InboundMessage, parse_notification, signature_is_valid

logger = logging.getLogger(__name__)

Handler = Callable[[UserMessage], Awaitable[Any]]

CHANNEL_NAME = "whatsapp"
# WhatsApp's opt-out keywords, alone or as a short request ("please stop messaging me").
OPT_OUT = re.compile(
    r"^(pl(ea)?se? )?(stop|unsubscribe|opt ?out)"
    r"( (all|me|now|please|pls|thanks|messages|messaging me|texting me|contacting me|sending me messages))*$"
)
OPT_IN = re.compile(r"^(start|subscribe|unstop)( (again|please|pls))?$")
STOP_CONFIRMATION = "Done: you won't get any more messages from us on WhatsApp. If you change your mind, send START."
MEDIA_INTENT = "/share_media"  # the domain answers it: text only here, and the offer of a person
GREETING_INTENT = "/greet"
# Rasa's turn is mostly CPU work on the event loop, so running several turns at once only
# makes every webhook wait behind them. Measured with 20 conversations arriving together
# (tests/whatsapp/test_channel.py, three runs each): median acknowledgement 15–26 ms with one
# turn at a time, 10–83 ms with two, 40–180 ms unlimited; the last answer arrives as soon.
# The cost: a slow custom action holds up this server's other WhatsApp turns meanwhile.
TURNS_AT_ONCE = 1
SWEEP_SECONDS = 30


def command_in(text: str) -> str:
    """The message as a keyword: lower case, one space between words, no closing punctuation."""
    return " ".join(text.lower().replace("-", " ").replace(",", " ").strip(" .!?").split())


class TurnOutput(OutputChannel):
    """Collects a turn's bot messages so the channel can compose them as a whole (render.py)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    @classmethod
    def name(cls) -> str:  # responses with `channel: whatsapp` variations are picked for this
        return CHANNEL_NAME

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.messages.append(message)


class WhatsAppOutput(TurnOutput):
    """For messages outside a visitor's turn (Rasa's trigger_intent, staff): sent one by one."""

    def __init__(self, courier: Courier) -> None:
        super().__init__()
        self._courier = courier

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await asyncio.to_thread(store.queue, recipient_id, compose_turn([message]))
        await self._courier.deliver(recipient_id)


class Conversations:
    """Runs each stored WhatsApp message as a Rasa turn, one visitor's messages in order.

    A message is claimed in the database before its turn, and marked done in the same
    transaction that stores the replies; a message no server finished (one stopped) is
    swept up again, and skipped if the transcript shows its turn did run.
    """

    def __init__(self, handler: Handler, graph: GraphClient, courier: Courier) -> None:
        self._handler = handler
        self._graph = graph
        self._courier = courier
        self._tails: dict[str, asyncio.Task] = {}
        self._running = asyncio.Semaphore(TURNS_AT_ONCE)
        self._app: Sanic | None = None
        self._receipts: set[asyncio.Task] = set()
        self._limits = visitor_limits()
        self._notices = RateLimiter(NOTICE)

    def attach(self, app: Sanic) -> None:
        self._app = app

    def arrive(self, message: InboundMessage) -> None:
        """A new message from Meta: its turn is scheduled, unless its visitor is over the rate limit.

        STOP and START always get through (the law and Meta require honouring them), and so do
        reactions and notices, which run no turn anyway.
        """
        command = command_in(message.text) if message.kind == "text" else ""
        exempt = message.kind == "ignored" or bool(OPT_OUT.match(command) or OPT_IN.match(command))
        over_limit = not exempt and self._limits.wait_for_conversation(CHANNEL_NAME, message.conversation_id) > 0
        self.schedule(message, over_limit=over_limit)

    def schedule(self, message: InboundMessage, recovered: bool = False, over_limit: bool = False) -> None:
        key = message.conversation_id
        previous = self._tails.get(key)
        task = asyncio.create_task(self._after(previous, message, recovered, over_limit))
        self._tails[key] = task
        task.add_done_callback(lambda done: self._tails.pop(key, None) if self._tails.get(key) is done else None)

    async def stop(self) -> None:
        """Stops waiting turns; a turn cut off mid-way is left for the sweep (and its transcript check)."""
        tasks = list(self._tails.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def sweep_forever(self, interval_seconds: float) -> None:
        """Picks up messages no server is answering, e.g. after another server stopped."""
        while True:
            await asyncio.sleep(interval_seconds)
            try:
                for message in await asyncio.to_thread(store.unfinished):
                    self.schedule(message, recovered=True)
            except Exception:
                logger.exception("Sweeping unanswered WhatsApp messages failed; trying again later")

    async def _after(
        self, previous: asyncio.Task | None, message: InboundMessage, recovered: bool, over_limit: bool = False
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        try:
            if over_limit:
                await self._slow_down(message)
            else:
                async with self._running:
                    await self.run(message, recovered)
            await self._courier.deliver(message.conversation_id)
        except Exception:
            logger.exception("WhatsApp message %s could not be answered", message.message_id)

    async def _slow_down(self, message: InboundMessage) -> None:
        """No turn and nothing in the transcript; the stored copy is dropped. The visitor hears
        "please wait a moment" at most once a minute, so a flood costs Meta sends only once."""
        if self._notices.allows(message.conversation_id):
            outgoing = [text_message(SLOW_DOWN)]
            await asyncio.to_thread(store.queue, message.conversation_id, outgoing, answering=message.message_id)
        else:
            await asyncio.to_thread(store.finish, message.message_id)

    async def run(self, message: InboundMessage, recovered: bool = False) -> None:
        if not await asyncio.to_thread(store.claim, message.message_id):
            return  # answered already, being answered elsewhere, or waiting for an earlier message
        try:
            if message.kind == "ignored" or (recovered and await self._turn_ran(message)):
                await asyncio.to_thread(store.finish, message.message_id)
                return
            receipt = asyncio.create_task(self._graph.mark_read_and_typing(message.message_id))
            self._receipts.add(receipt)  # sent alongside the turn, not before it
            receipt.add_done_callback(self._receipts.discard)
            contact = await asyncio.to_thread(store.note_inbound, message)
        except BaseException:
            await asyncio.shield(asyncio.to_thread(store.release, message.message_id))
            raise
        await self._answer(message, opted_out=contact.opted_out_at is not None)

    async def _answer(self, message: InboundMessage, opted_out: bool) -> None:
        key, command = message.conversation_id, command_in(message.text) if message.kind == "text" else ""
        opting_in = bool(OPT_IN.match(command))
        if OPT_OUT.match(command) and not (command == "stop" and await self._form_is_active(key)):
            await asyncio.to_thread(store.set_opted_out, key, True)
            await asyncio.to_thread(
                store.queue, key, [text_message(STOP_CONFIRMATION)], answering=message.message_id, confirmation=True
            )
        elif opted_out and not opting_in:
            logger.info("A WhatsApp visitor who sent STOP wrote again; not answered (%s)", conversation_ref(key))
            await asyncio.to_thread(store.finish, message.message_id)
        else:
            if opted_out:
                await asyncio.to_thread(store.set_opted_out, key, False)
            if opting_in or message.kind == "media":  # the channel's own commands, not the visitor's text
                await self._turn(message, GREETING_INTENT if opting_in else MEDIA_INTENT, command=True)
            else:
                await self._turn(message, await self._text_for_rasa(message))

    async def _text_for_rasa(self, message: InboundMessage) -> str:
        """The typed text, a numbered menu's payload, or the chosen button's (an offered one is a
        command: channels/commands.py)."""
        if message.kind == "text":
            return await asyncio.to_thread(store.menu_choice, message.conversation_id, message.text) or message.text
        return message.text

    async def _turn(self, message: InboundMessage, text: str, command: bool = False) -> None:
        output = TurnOutput()
        await self._handler(
            (ServerCommand if command else UserMessage)(
                text,
                output,
                message.conversation_id,
                input_channel=CHANNEL_NAME,
                message_id=message.message_id,
                metadata=message.metadata(),
            )
        )
        outgoing = compose_turn(output.messages)
        await asyncio.to_thread(store.queue, message.conversation_id, outgoing, answering=message.message_id)

    async def _tracker(self, conversation_id: str):
        agent = getattr(self._app.ctx, "agent", None) if self._app else None
        return await agent.tracker_store.retrieve(conversation_id) if agent and agent.tracker_store else None

    async def _form_is_active(self, conversation_id: str) -> bool:
        """ "stop" in the middle of a form means stop the form: the form asks to confirm."""
        tracker = await self._tracker(conversation_id)
        return tracker is not None and tracker.active_loop_name is not None

    async def _turn_ran(self, message: InboundMessage) -> bool:
        tracker = await self._tracker(message.conversation_id)
        return tracker is not None and any(
            isinstance(event, UserUttered) and event.message_id == message.message_id for event in tracker.events
        )


class WhatsAppInput(InputChannel):
    """Meta's webhook for the clinic's WhatsApp number; off unless the WHATSAPP_* variables are set."""

    def __init__(self, settings: WhatsAppSettings | None) -> None:
        self.settings = settings
        self.graph = GraphClient(settings) if settings else None
        self.courier = Courier(self.graph) if self.graph else None

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppInput:
        return cls(settings_from_env())

    def get_output_channel(self) -> OutputChannel | None:
        return WhatsAppOutput(self.courier) if self.courier else None

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return guarded(self._blueprint, on_new_message)

    def _blueprint(self, handler: Handler) -> Blueprint:
        webhook = Blueprint("whatsapp_webhook", __name__)
        settings, graph, courier = self.settings, self.graph, self.courier
        conversations = Conversations(handler, graph, courier) if settings else None
        background: list[asyncio.Task] = []

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if settings else "off"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if refusal := self._off():
                return refusal
            mode, token = request.args.get("hub.mode"), request.args.get("hub.verify_token") or ""
            if mode == "subscribe" and hmac.compare_digest(token.encode(), settings.verify_token.encode()):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("Verification failed.", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if refusal := self._off():
                return refusal
            if not signature_is_valid(request.body, request.headers.get(SIGNATURE_HEADER), settings.app_secret):
                logger.warning("Rejected a WhatsApp webhook with a missing or wrong signature")
                return response.text("Invalid signature.", status=401)
            try:
                notification = parse_notification(json.loads(request.body))
            except ValueError:
                return response.text("The body is not JSON.", status=400)
            for error in notification.errors:  # its details can quote the visitor's message: code and title only
                logger.error("WhatsApp reported an error: %s %s", error.get("code"), error.get("title"))
            for message in await asyncio.to_thread(store.record_arrivals, notification):
                conversations.arrive(message)
            return response.text("OK")

        @webhook.listener("after_server_start")
        async def start_background_work(app: Sanic, _loop: Any) -> None:
            if settings is None:
                return
            conversations.attach(app)
            for message in await asyncio.to_thread(store.unfinished, timedelta(0)):
                conversations.schedule(message, recovered=True)
            interval = float(os.environ.get("WHATSAPP_RETRY_SECONDS", "2"))
            background.append(asyncio.create_task(courier.retry_forever(interval)))
            background.append(asyncio.create_task(conversations.sweep_forever(SWEEP_SECONDS)))

        @webhook.listener("before_server_stop")
        async def stop_background_work(app: Sanic, _loop: Any) -> None:
            for task in background:
                task.cancel()
            if conversations is not None:
                await conversations.stop()
            if graph is not None:
                await graph.close()

        return webhook

    def _off(self) -> HTTPResponse | None:
        if self.settings:
            return None
        return response.json({"error": f"The WhatsApp channel is off: set {', '.join(REQUIRED)}."}, status=503)
