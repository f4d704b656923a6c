"""Delivers queued WhatsApp messages: in order per visitor, retried while Meta is unreachable.

Every message is stored before it is sent (store.queue), so nothing is lost when Meta is
down or the server restarts: the retry loop picks up whatever is still pending. Failures
Meta calls permanent are kept with its error code for staff (GET /staff/whatsapp/problems).
Every Rasa server runs a courier; a message is claimed before it is sent (store.next_due), so
of several servers sharing the database only one sends it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

from actions.records import WhatsAppContact, utcnow
from channels.redact import conversation_ref
from channels.whatsapp import store
from channels.whatsapp.graph import WINDOW_CLOSED_CODE, GraphClient, GraphError

logger = logging.getLogger(__name__)

MAX_RETRY_DELAY = timedelta(seconds=60)


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8 … seconds, then once a minute for as long as Meta stays unreachable."""
    return min(timedelta(seconds=2 ** max(attempts - 1, 0)), MAX_RETRY_DELAY)


def recipient_of(contact: WhatsAppContact) -> dict[str, str]:
    """The phone number when Meta shared it, else the business-scoped user id."""
    return {"to": contact.wa_id} if contact.wa_id else {"recipient": contact.user_id}


class Courier:
    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph
        self._locks: dict[str, asyncio.Lock] = {}

    async def deliver(self, conversation_id: str) -> None:
        """Sends the conversation's due messages, oldest first, until one has to wait."""
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        async with lock:
            while due := await asyncio.to_thread(store.next_due, conversation_id):
                outbound, contact = due
                if store.window_closed(contact, utcnow()):
                    await asyncio.to_thread(store.mark_held, outbound.id, store.WINDOW_CLOSED)
                    continue
                if not await self._send(outbound.id, outbound.attempts, contact, json.loads(outbound.body)):
                    return

    async def _send(self, outbound_id: int, attempts: int, contact: WhatsAppContact, body: dict) -> bool:
        """True when this message is settled (sent, held or failed for good)."""
        try:
            message_id = await self._graph.send(recipient_of(contact), body)
        except GraphError as error:
            if error.code == WINDOW_CLOSED_CODE:
                await asyncio.to_thread(store.mark_held, outbound_id, store.WINDOW_CLOSED)
                return True
            if error.retryable:
                delay = MAX_RETRY_DELAY if error.setup_problem else retry_delay(attempts)
                log = logger.error if error.setup_problem else logger.warning
                hint = " Check WHATSAPP_ACCESS_TOKEN and the app's permissions." if error.setup_problem else ""
                who = conversation_ref(contact.conversation_id)
                log("WhatsApp send to %s will be retried in %s: %s.%s", who, delay, error, hint)
                await asyncio.to_thread(store.mark_retry, outbound_id, delay, str(error), error.code)
                return False
            who = conversation_ref(contact.conversation_id)
            logger.error("WhatsApp send to %s failed (Meta error %s): %s", who, error.code, error)
            await asyncio.to_thread(store.mark_failed, outbound_id, str(error), error.code)
            return True
        if not await asyncio.to_thread(store.mark_sent, outbound_id, message_id):
            who = conversation_ref(contact.conversation_id)
            logger.warning("WhatsApp message to %s was sent after this server's claim on it ran out", who)
        return True

    async def retry_forever(self, interval_seconds: float) -> None:
        """The server's background loop: sends whatever is due, in every conversation."""
        while True:
            await asyncio.sleep(interval_seconds)
            try:
                due = await asyncio.to_thread(store.conversations_with_due_messages)
            except Exception:  # the loop must outlive a database hiccup
                logger.exception("WhatsApp retry loop could not read the queue; trying again in %ss", interval_seconds)
                continue
            for conversation_id in due:
                try:
                    await self.deliver(conversation_id)
                except Exception:  # one conversation's trouble must not hold up the others
                    logger.exception(
                        "Delivering WhatsApp messages to %s failed; will try again", conversation_ref(conversation_id)
                    )
