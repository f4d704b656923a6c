"""What Meta posts to the webhook, checked and read into plain objects.

Nothing here touches Rasa or the network, so the rules about what counts as a message, a
status or a duplicate are tested directly. Meta's payload shapes: README, "WhatsApp".
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"

# What the visitor sent, in words for replies and transcripts.
MEDIA_NAMES = {
    "image": "photo",
    "video": "video",
    "document": "document",
    "sticker": "sticker",
    "location": "location",
    "contacts": "contact card",
}
# Not messages to answer: a reaction to an earlier message, a system notice (number changed),
# the "welcome" request when a visitor opens the chat.
IGNORED_TYPES = {"reaction", "system", "request_welcome"}


def signature_is_valid(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex>` over the exact bytes received, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest().encode()
    given = header.removeprefix("sha256=").strip().lower().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, expected)


@dataclass(frozen=True)
class Sender:
    """Who wrote: the business-scoped user id when Meta sends one, else the phone number (wa_id)."""

    wa_id: str | None
    user_id: str | None
    name: str | None = None

    @property
    def key(self) -> str:
        """A new visitor's conversation id: stable even if they later hide their number behind a username."""
        return self.user_id or self.wa_id or ""

    @property
    def phone(self) -> str | None:
        return f"+{self.wa_id}" if self.wa_id and self.wa_id.isdigit() else None


@dataclass(frozen=True)
class InboundMessage:
    message_id: str
    sender: Sender
    sent_at: datetime
    kind: str  # text | choice | media | ignored
    conversation_id: str = ""  # the visitor's conversation: store.record_arrivals keeps it stable
    text: str = ""  # what Rasa reads: the typed text, or the id (payload) of the chosen option
    title: str = ""  # the chosen option's title, as the visitor saw it
    media: dict[str, Any] = field(default_factory=dict)  # {"type", "name", "id"?, "mime_type"?}

    def metadata(self) -> dict[str, Any]:
        """Kept with the visitor's message in the transcript (Rasa's UserUttered metadata)."""
        details = {"message_id": self.message_id, "kind": self.kind, "phone": self.sender.phone}
        details |= {"user_id": self.sender.user_id, "wa_id": self.sender.wa_id, "profile_name": self.sender.name}
        if self.title:
            details["title"] = self.title
        if self.media:
            details["media"] = self.media
        return {"whatsapp": {key: value for key, value in details.items() if value is not None}}


@dataclass(frozen=True)
class StatusUpdate:
    message_id: str  # the wamid of one of our sends
    status: str  # sent | delivered | read | failed
    at: datetime
    recipient: str
    error_code: int | None = None
    error_title: str | None = None


@dataclass
class Notification:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def parse_notification(body: dict[str, Any]) -> Notification:
    """Every message, status and error in one webhook (Meta batches several changes together)."""
    notification = Notification()
    if body.get("object") != "whatsapp_business_account":
        return notification
    for entry in body.get("entry") or []:
        for change in entry.get("changes") or []:
            if change.get("field") != "messages":
                continue
            value = change.get("value") or {}
            senders = [_sender(contact) for contact in value.get("contacts") or []]
            notification.messages += [m for m in (_message(raw, senders) for raw in value.get("messages") or []) if m]
            notification.statuses += [s for s in (_status(raw) for raw in value.get("statuses") or []) if s]
            notification.errors += list(value.get("errors") or [])
    return notification


def _timestamp(raw: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(raw), timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(timezone.utc)


def _sender(contact: dict[str, Any]) -> Sender:
    return Sender(contact.get("wa_id"), contact.get("user_id"), (contact.get("profile") or {}).get("name"))


def _find_sender(raw: dict[str, Any], senders: list[Sender]) -> Sender:
    wa_id, user_id = raw.get("from"), raw.get("from_user_id")
    for sender in senders:
        if (user_id and sender.user_id == user_id) or (wa_id and sender.wa_id == wa_id):
            return Sender(sender.wa_id or wa_id, sender.user_id or user_id, sender.name)
    return Sender(wa_id, user_id)


def _message(raw: dict[str, Any], senders: list[Sender]) -> InboundMessage | None:
    message_id, kind = raw.get("id"), raw.get("type")
    sender = _find_sender(raw, senders)
    if not message_id or not sender.key:
        return None
    common = {
        "message_id": message_id,
        "sender": sender,
        "sent_at": _timestamp(raw.get("timestamp")),
        "conversation_id": sender.key,
    }
    if kind == "text":
        return InboundMessage(**common, kind="text", text=(raw.get("text") or {}).get("body", ""))
    if kind == "interactive":
        interactive = raw.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply")
        if reply and reply.get("id"):
            return InboundMessage(**common, kind="choice", text=reply["id"], title=reply.get("title", ""))
    if kind == "button":  # a quick-reply button of a message template
        button = raw.get("button") or {}
        chosen = button.get("payload") or button.get("text")
        if chosen:
            return InboundMessage(**common, kind="choice", text=chosen, title=button.get("text", ""))
    if kind in IGNORED_TYPES:
        return InboundMessage(**common, kind="ignored", media={"type": kind})
    return InboundMessage(**common, kind="media", media=_media(kind, raw))


def _media(kind: str | None, raw: dict[str, Any]) -> dict[str, Any]:
    """What was sent, never its content: media ids expire and the visitor's files stay with Meta."""
    details = raw.get(kind or "") or {}
    if kind == "audio":
        name = "voice note" if details.get("voice") else "audio message"
    else:
        name = MEDIA_NAMES.get(kind or "", "message of a kind I can't read")
    described = {"type": kind or "unknown", "name": name}
    for key in ("id", "mime_type"):
        if isinstance(details, dict) and details.get(key):
            described[key] = details[key]
    return described


def _status(raw: dict[str, Any]) -> StatusUpdate | None:
    if not raw.get("id") or not raw.get("status"):
        return None
    error = (raw.get("errors") or [{}])[0]
    return StatusUpdate(
        message_id=raw["id"],
        status=raw["status"],
        at=_timestamp(raw.get("timestamp")),
        recipient=raw.get("recipient_user_id") or raw.get("recipient_id") or "",
        error_code=error.get("code"),
        error_title=error.get("title") or error.get("message"),
    )
