"""The console's calls to the Rasa server: reply to a visitor, resume the assistant, get a story.

Over HTTP, with the staff token (channels/staff.py) or Rasa's API token: the console never
touches a tracker Rasa might be writing. Failures come back as a sentence for staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=15)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str = ""
    body: str = ""
    data: dict | None = None  # the staff API's JSON answer


class AssistantClient:
    def __init__(self, base_url: str, staff_token: str | None, api_token: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.staff_token = staff_token
        self.api_token = api_token

    async def reply(self, conversation_id: str, text: str, author: str) -> Outcome:
        return await self._staff("reply", conversation_id, {"text": text, "author": author})

    async def resume(self, conversation_id: str) -> Outcome:
        return await self._staff("resume", conversation_id, {})

    async def erase(self, conversation_id: str, author: str) -> Outcome:
        return await self._staff("erase", conversation_id, {"author": author})

    async def story(self, conversation_id: str) -> Outcome:
        """Rasa's own test story for the conversation (GET /conversations/<id>/story)."""
        params = {"token": self.api_token} if self.api_token else {}
        url = f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/story"
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session, session.get(url, params=params) as reply:
                body = await reply.text()
                if reply.status != 200:
                    return Outcome(False, f"The assistant could not write the story (HTTP {reply.status}).")
                return Outcome(True, body=body)
        except (aiohttp.ClientError, TimeoutError):
            return Outcome(False, "The assistant's server is not reachable; try again in a minute.")

    async def _staff(self, verb: str, conversation_id: str, payload: dict) -> Outcome:
        if not self.staff_token:
            return Outcome(False, "STAFF_TOKEN is not set, so the console cannot reach the assistant.")
        url = f"{self.base_url}/staff/conversations/{quote(conversation_id, safe='')}/{verb}"
        headers = {"Authorization": f"Bearer {self.staff_token}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=TIMEOUT) as session,
                session.post(url, json=payload, headers=headers) as reply,
            ):
                body = await reply.json(content_type=None)
                if reply.status != 200:
                    return Outcome(False, (body or {}).get("error") or f"The assistant answered HTTP {reply.status}.")
                return Outcome(True, data=body)
        except aiohttp.ClientConnectionError:
            return Outcome(False, "The assistant's server is not reachable; nothing was sent. Try again in a minute.")
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return Outcome(False, "The assistant did not confirm in time: check the transcript before trying again.")
