"""Calls to Meta's Graph API: one shared aiohttp session, errors sorted into "retry" or "give up"."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from channels.whatsapp.settings import WhatsAppSettings

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
# Meta's codes for "try again later": throttling (4, 80007, 130429, 131056 per user pair),
# temporary errors (1, 2, 131000, 131016); and the clinic's own set-up (190 expired token,
# 10 and 200 permissions, 131031 account locked): messages wait until it is fixed rather
# than fail one by one.
RETRYABLE_CODES = {1, 2, 4, 80007, 130429, 131000, 131016, 131056}
SETUP_CODES = {10, 190, 200, 131031}
# The 24-hour window had closed by the time Meta looked (re-engagement message).
WINDOW_CLOSED_CODE = 131047


@dataclass
class GraphError(Exception):
    status: int | None  # HTTP status; None when Meta could not be reached
    code: int | None  # Meta's error code
    detail: str

    @property
    def retryable(self) -> bool:
        return (
            self.status is None
            or self.status in (401, 403, 429)
            or self.status >= 500
            or self.code in RETRYABLE_CODES | SETUP_CODES
        )

    @property
    def setup_problem(self) -> bool:
        return self.status in (401, 403) or self.code in SETUP_CODES

    def __str__(self) -> str:
        return f"HTTP {self.status}, code {self.code}: {self.detail}" if self.status else self.detail


class GraphClient:
    """Sends messages and read receipts for the clinic's phone number."""

    def __init__(self, settings: WhatsAppSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use, inside the server's running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self._settings.access_token}"},
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POSTs to the messages endpoint; Meta's JSON answer, or GraphError."""
        body = {"messaging_product": "whatsapp", **payload}
        try:
            async with self._client().post(self._settings.messages_url, json=body) as reply:
                text = await reply.text()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise GraphError(None, None, f"Meta's API could not be reached: {type(error).__name__}") from error
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            answer = {}
        if reply.status == 200:
            return answer
        error = answer.get("error") or {}
        raise GraphError(reply.status, error.get("code"), error.get("message") or reply.reason or "")

    async def send(self, recipient: dict[str, str], message: dict[str, Any]) -> str | None:
        """Sends one message; returns Meta's message id (wamid)."""
        answer = await self.post({"recipient_type": "individual", **recipient, **message})
        try:
            return answer["messages"][0]["id"]
        except (KeyError, IndexError, TypeError):
            logger.warning("Meta accepted a message without giving its id (answer keys: %s)", sorted(answer or {}))
            return None

    async def mark_read_and_typing(self, message_id: str) -> None:
        """Two ticks and "typing…" for the visitor while the turn runs; a failure only costs the cue."""
        try:
            await self.post({"status": "read", "message_id": message_id, "typing_indicator": {"type": "text"}})
        except GraphError as error:
            logger.info("Could not mark WhatsApp message %s read: %s", message_id, error)
