"""Staff API on the Rasa server: see open handoffs and bookings, hand a conversation back.

Every request needs `Authorization: Bearer <STAFF_TOKEN>`. Without STAFF_TOKEN set, the API
refuses everything rather than run unprotected. The staff console will build on these routes.

    GET  /staff/handoffs?status=open       handoffs to a person, newest first
    GET  /staff/bookings                   booking requests with their delivery state
    GET  /staff/whatsapp/problems          WhatsApp messages that did not reach the visitor, and why
    POST /staff/conversations/<id>/resume  the assistant answers this conversation again
    POST /staff/conversations/<id>/reply   {"text": ..., "author": ...}: a person answers a
                                           visitor whose conversation was handed over
    POST /staff/conversations/<id>/erase   {"author": ...}: erase the conversation (transcript,
                                           health answers, contact details), as if the visitor
                                           had asked; the caller audits it

The staff console (console/) calls the last two; the reply goes out on the visitor's own
channel (web chat or WhatsApp) and is stored in the transcript as a bot message marked
`staff_reply`, so the console and the story export know who wrote it.
"""

from __future__ import annotations

import asyncio
import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import update

from actions import records
from channels.erasure import erase_now
from channels.whatsapp import store as whatsapp_store

MAX_REPLY_CHARS = 4000


def authorised(request: Request) -> HTTPResponse | None:
    """None when the request carries the staff token, else the refusal to send."""
    token = os.environ.get("STAFF_TOKEN", "")
    if not token:
        return response.json({"error": "The staff API is off: set STAFF_TOKEN to turn it on."}, status=503)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return response.json({"error": "A valid staff token is required."}, status=401)
    return None


def list_handoffs(status: str | None) -> list[dict[str, Any]]:
    with records.session() as db:
        return [
            {**h.as_payload(), "status": h.status, "resumed_at": h.resumed_at and h.resumed_at.isoformat()}
            for h in records.handoffs(db, status)
        ]


def list_bookings() -> list[dict[str, Any]]:
    with records.session() as db:
        return [{**b.as_payload(), "status": b.status, "needs_staff": b.needs_staff} for b in records.bookings(db)]


def close_handoffs(conversation_id: str) -> None:
    with records.session() as db:
        db.execute(
            update(records.Handoff)
            .where(records.Handoff.conversation_id == conversation_id, records.Handoff.status == "open")
            .values(status="resumed", resumed_at=records.utcnow())
        )


def whatsapp_hold_reason(conversation_id: str) -> str | None:
    """Why WhatsApp would hold a reply now (the 24-hour window, an opt-out), if it would."""
    with records.session() as db:
        contact = db.get(records.WhatsAppContact, conversation_id)
        return whatsapp_store.hold_reason(contact, records.utcnow())


def output_channel_for(app: Any, channel_name: str | None):
    """The output of the channel the visitor last wrote on, if it can send outside a turn."""
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == channel_name:
            return channel.get_output_channel()
    return None


class StaffAPI(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "staff"

    def url_prefix(self) -> str:
        return "/staff"  # absolute: not under /webhooks (see channels/webchat.py)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        staff = Blueprint("staff_api", __name__)

        @staff.route("/handoffs", methods=["GET"])
        async def handoffs(request: Request) -> HTTPResponse:
            if refusal := authorised(request):
                return refusal
            return response.json(await asyncio.to_thread(list_handoffs, request.args.get("status")))

        @staff.route("/bookings", methods=["GET"])
        async def bookings(request: Request) -> HTTPResponse:
            if refusal := authorised(request):
                return refusal
            return response.json(await asyncio.to_thread(list_bookings))

        @staff.route("/whatsapp/problems", methods=["GET"])
        async def whatsapp_problems(request: Request) -> HTTPResponse:
            if refusal := authorised(request):
                return refusal
            return response.json(await asyncio.to_thread(whatsapp_store.problems))

        @staff.route("/conversations/<conversation_id>/resume", methods=["POST"])
        async def resume(request: Request, conversation_id: str) -> HTTPResponse:
            if refusal := authorised(request):
                return refusal
            agent = request.app.ctx.agent
            async with agent.lock_store.lock(conversation_id):
                tracker = await agent.tracker_store.retrieve(conversation_id)
                if tracker is None:
                    return response.json({"error": "No such conversation."}, status=404)
                was_paused = tracker.is_paused()
                if was_paused:
                    # The listen marks the end of the paused stretch, so the visitor's next
                    # message is read as a fresh turn (rules start from a listen).
                    tracker.update(ConversationResumed())
                    tracker.update(ActionExecuted("action_listen"))
                    await agent.tracker_store.save(tracker)
            await asyncio.to_thread(close_handoffs, conversation_id)
            return response.json({"conversation_id": conversation_id, "resumed": was_paused})

        @staff.route("/conversations/<conversation_id>/reply", methods=["POST"])
        async def reply(request: Request, conversation_id: str) -> HTTPResponse:
            if refusal := authorised(request):
                return refusal
            body = request.json if isinstance(request.json, dict) else {}
            text, author = str(body.get("text") or "").strip(), str(body.get("author") or "").strip()
            if not text or len(text) > MAX_REPLY_CHARS or not author:
                return response.json(
                    {"error": f"A reply needs an author and a text of 1 to {MAX_REPLY_CHARS} characters."}, status=400
                )
            agent = request.app.ctx.agent
            async with agent.lock_store.lock(conversation_id):
                tracker = await agent.tracker_store.retrieve(conversation_id)
                if tracker is None:
                    return response.json({"error": "No such conversation."}, status=404)
                if not tracker.is_paused():
                    return response.json(
                        {"error": "The assistant is answering this conversation: hand it over first."}, status=409
                    )
                channel = tracker.get_latest_input_channel()
                if channel == "whatsapp" and (held := await asyncio.to_thread(whatsapp_hold_reason, conversation_id)):
                    return response.json({"error": held}, status=409)
                output = output_channel_for(request.app, channel)
                if output is None:
                    return response.json(
                        {"error": f"The visitor's channel ({channel or 'unknown'}) cannot receive a reply later."},
                        status=409,
                    )
                await output.send_response(conversation_id, {"text": text})
                tracker.update(BotUttered(text, metadata={"staff_reply": {"author": author}}))
                await agent.tracker_store.save(tracker)
            return response.json({"conversation_id": conversation_id, "sent": True, "channel": channel})

        @staff.route("/conversations/<conversation_id>/erase", methods=["POST"])
        async def erase(request: Request, conversation_id: str) -> HTTPResponse:
            if refusal := authorised(request):
                return refusal
            body = request.json if isinstance(request.json, dict) else {}
            author = str(body.get("author") or "").strip()[:60]
            if not author:
                return response.json({"error": "An erasure needs an author (who asked for it)."}, status=400)
            agent = request.app.ctx.agent
            async with agent.lock_store.lock(conversation_id):  # no turn of it runs meanwhile
                tracker = await agent.tracker_store.retrieve(conversation_id)
                channel = (tracker and tracker.get_latest_input_channel()) or "unknown"
                report = await asyncio.to_thread(erase_now, conversation_id, f"staff:{author}", channel)
            return response.json(
                {
                    "reference": report.reference,
                    "booking_references": report.booking_references,
                    "removed": report.removed,
                }
            )

        return staff
