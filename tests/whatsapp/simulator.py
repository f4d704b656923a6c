"""A local stand-in for Meta's WhatsApp Business Cloud API (the Graph API), for tests of our WhatsApp channel.

It plays both directions of the conversation:

* **Graph API server** — what our channel sends to. A threaded HTTP server on 127.0.0.1 accepts
  ``POST /{version}/{phone_number_id}/messages``, checks the bearer token and every documented limit of the
  Cloud API (button counts, title lengths, list rows, ...), and records what it accepted and what it refused.
  Meta refuses an over-long button title with a 400 in production; catching that here is the point.
* **Webhook sender** — what Meta posts to us. It builds Meta-shaped webhook JSON (messages, button taps,
  media, delivery statuses) and POSTs it to our webhook, signed with the app secret exactly as Meta does.

It can be told to fail (``fail_next``) or be slow (``delay_seconds``), and stopped and started again on the
same port, so retry and outage behaviour can be tested without touching the real API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

# Titles Meta uses for the error codes the tests are likely to provoke.
ERROR_TITLES = {
    100: "Invalid parameter",
    190: "Invalid OAuth access token",
    130429: "Rate limit hit",
    131000: "Something went wrong",
    131026: "Message undeliverable",
    131047: "Re-engagement message",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
}

STATUSES = ("sent", "delivered", "read", "failed")

_PATH = re.compile(r"^/(?P<version>[^/]+)/(?P<phone_number_id>[^/]+)/messages/?$")
_PHONE = re.compile(r"^\+?\d+$")


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now (bind to 0, read it, let it go)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signature_for(app_secret: str, raw_body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends: HMAC-SHA256 of the exact raw body, keyed by the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Contact:
    """A WhatsApp user as Meta describes them in webhooks.

    ``wa_id`` is None for users who hide their number behind a username; Meta then identifies them only by
    the business-scoped ``user_id``.
    """

    wa_id: str | None = "447700900123"
    user_id: str | None = None
    name: str = "Alex Visitor"

    def as_webhook_contact(self) -> dict:
        contact: dict[str, Any] = {"profile": {"name": self.name}}
        if self.wa_id is not None:
            contact["wa_id"] = self.wa_id
        if self.user_id is not None:
            contact["user_id"] = self.user_id
        return contact


@dataclass
class Sent:
    """A message send the simulator accepted (read receipts are kept apart, in ``GraphSimulator.receipts``)."""

    payload: dict
    message_id: str
    at: float

    @property
    def kind(self) -> str:
        if self.payload.get("type") == "interactive":
            interactive_type = self.payload["interactive"].get("type")
            return {"button": "buttons", "list": "list"}.get(interactive_type, interactive_type)
        return self.payload.get("type", "")

    @property
    def text(self) -> str:
        if self.payload.get("type") == "text":
            return self.payload["text"]["body"]
        if self.payload.get("type") == "interactive":
            return self.payload["interactive"].get("body", {}).get("text", "")
        return ""

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(id, title) of the reply buttons, or of every row of a list, in the order the user sees them."""
        action = self.payload.get("interactive", {}).get("action", {})
        if self.kind == "buttons":
            return [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
        if self.kind == "list":
            return [(row["id"], row["title"]) for section in action["sections"] for row in section["rows"]]
        return []

    @property
    def recipient(self) -> str:
        return self.payload.get("to") or self.payload.get("recipient") or ""

    def row(self, title: str) -> dict | None:
        """The reply button's ``reply`` object or the list row with this title, if there is one."""
        action = self.payload.get("interactive", {}).get("action", {})
        if self.kind == "buttons":
            found = [b["reply"] for b in action["buttons"] if b["reply"]["title"] == title]
        elif self.kind == "list":
            found = [row for section in action["sections"] for row in section["rows"] if row["title"] == title]
        else:
            found = []
        return found[0] if found else None


@dataclass
class Rejected:
    """A POST the simulator refused, with the rule it broke (``payload`` is None when the body was unreadable)."""

    payload: dict | None
    reason: str
    status: int


class MetaWouldReject(Exception):
    """Raised while validating a send; the message becomes ``Rejected.reason``."""


def _obj(parent: dict, key: str) -> dict:
    """``parent[key]`` if it is an object, else {} (so a malformed send is rejected, not a crash)."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _string(value: Any, where: str, max_len: int) -> None:
    """Meta's rule for most text fields: present, a non-empty string, at most ``max_len`` characters."""
    if not isinstance(value, str) or not value:
        raise MetaWouldReject(f"{where} is required and must be a non-empty string")
    if len(value) > max_len:
        raise MetaWouldReject(f"{where} is {len(value)} characters; the limit is {max_len}")


def _check_header_footer(interactive: dict) -> None:
    if "header" in interactive:
        header = interactive["header"]
        if not isinstance(header, dict) or header.get("type") != "text":
            raise MetaWouldReject("interactive.header: only text headers are supported in simulator")
        _string(header.get("text"), "interactive.header.text", 60)
    if "footer" in interactive:
        _string(_obj(interactive, "footer").get("text"), "interactive.footer.text", 60)


def _check_buttons(interactive: dict) -> None:
    _string(_obj(interactive, "body").get("text"), "interactive.body.text", 1024)
    buttons = _obj(interactive, "action").get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        count = len(buttons) if isinstance(buttons, list) else "no"
        raise MetaWouldReject(f"interactive.action.buttons has {count} buttons; 1 to 3 are allowed")
    for i, button in enumerate(buttons):
        where = f"interactive.action.buttons[{i}]"
        if not isinstance(button, dict) or button.get("type") != "reply" or not isinstance(button.get("reply"), dict):
            raise MetaWouldReject(f'{where} must be {{"type": "reply", "reply": {{"id", "title"}}}}')
        _string(button["reply"].get("id"), f"{where}.reply.id", 256)
        _string(button["reply"].get("title"), f"{where}.reply.title", 20)
    titles = [b["reply"]["title"] for b in buttons]
    ids = [b["reply"]["id"] for b in buttons]
    if len(set(titles)) != len(titles):
        raise MetaWouldReject(f"button titles must be unique: {titles}")
    if len(set(ids)) != len(ids):
        raise MetaWouldReject(f"button ids must be unique: {ids}")
    _check_header_footer(interactive)


def _check_list(interactive: dict) -> None:
    _string(_obj(interactive, "body").get("text"), "interactive.body.text", 4096)
    action = _obj(interactive, "action")
    _string(action.get("button"), "interactive.action.button", 20)
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
        count = len(sections) if isinstance(sections, list) else "no"
        raise MetaWouldReject(f"interactive.action.sections has {count} sections; 1 to 10 are allowed")
    ids: list[str] = []
    for s, section in enumerate(sections):
        where = f"interactive.action.sections[{s}]"
        if not isinstance(section, dict):
            raise MetaWouldReject(f"{where} must be an object")
        if len(sections) > 1 or "title" in section:
            _string(section.get("title"), f"{where}.title (required with more than one section)", 24)
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise MetaWouldReject(f"{where}.rows must be a non-empty list")
        for r, row in enumerate(rows):
            if not isinstance(row, dict):
                raise MetaWouldReject(f"{where}.rows[{r}] must be an object")
            _string(row.get("id"), f"{where}.rows[{r}].id", 200)
            _string(row.get("title"), f"{where}.rows[{r}].title", 24)
            description = row.get("description")
            if description is not None and (not isinstance(description, str) or len(description) > 72):
                raise MetaWouldReject(f"{where}.rows[{r}].description must be a string of at most 72 characters")
            ids.append(row["id"])
    if not 1 <= len(ids) <= 10:
        raise MetaWouldReject(f"the list has {len(ids)} rows in total; 1 to 10 are allowed")
    if len(set(ids)) != len(ids):
        raise MetaWouldReject(f"row ids must be unique across the list: {ids}")
    _check_header_footer(interactive)


def validate_send(payload: Any) -> None:
    """Raise ``MetaWouldReject`` if Meta would refuse this message send (read receipts are checked separately)."""
    if not isinstance(payload, dict):
        raise MetaWouldReject("the body must be a JSON object")
    if payload.get("messaging_product") != "whatsapp":
        raise MetaWouldReject('messaging_product must be "whatsapp"')
    to, recipient = payload.get("to"), payload.get("recipient")
    if to is None and recipient is None:
        raise MetaWouldReject("a send needs 'to' (a phone number) or 'recipient' (a business-scoped user id)")
    if to is not None and (not isinstance(to, str) or not _PHONE.match(to)):
        raise MetaWouldReject(f"'to' must be a phone number in digits with an optional leading +, not {to!r}")
    if recipient is not None and (not isinstance(recipient, str) or not recipient):
        raise MetaWouldReject("'recipient' must be a non-empty string")
    if payload.get("recipient_type", "individual") != "individual":
        raise MetaWouldReject('recipient_type must be "individual"')
    kind = payload.get("type")
    if not kind or not isinstance(kind, str):
        raise MetaWouldReject("'type' is required and must be a string")
    body = payload.get(kind)
    if kind == "text":
        if not isinstance(body, dict):
            raise MetaWouldReject("'text' must be an object")
        _string(body.get("body"), "text.body", 4096)
        if "preview_url" in body and not isinstance(body["preview_url"], bool):
            raise MetaWouldReject("text.preview_url must be a boolean")
    elif kind == "interactive":
        interactive_type = body.get("type") if isinstance(body, dict) else None
        if interactive_type == "button":
            _check_buttons(body)
        elif interactive_type == "list":
            _check_list(body)
        else:
            raise MetaWouldReject(f"interactive type {interactive_type!r} is unsupported in simulator")
    elif kind == "template":
        template = _obj(payload, "template")
        if not (template.get("name") and _obj(template, "language").get("code")):
            raise MetaWouldReject('a template without "name" and "language": {"code"} is unsupported in simulator')
    else:
        raise MetaWouldReject(f"message type {kind!r} is unsupported in simulator")


def validate_receipt(payload: dict) -> None:
    """Raise ``MetaWouldReject`` unless this is a well-formed "mark as read" call (optionally showing typing)."""
    if payload.get("messaging_product") != "whatsapp":
        raise MetaWouldReject('messaging_product must be "whatsapp"')
    if not isinstance(payload.get("message_id"), str) or not payload["message_id"]:
        raise MetaWouldReject("a read receipt needs a non-empty message_id")
    if "typing_indicator" in payload and payload["typing_indicator"] != {"type": "text"}:
        raise MetaWouldReject('typing_indicator must be {"type": "text"}')


def _error_body(code: int, message: str, details: str | None = None) -> dict:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = "SIM" + uuid.uuid4().hex[:20]
    return {"error": error}


class GraphSimulator:
    """Meta's Cloud API, both directions, on 127.0.0.1. See the module docstring."""

    def __init__(
        self,
        *,
        app_secret: str,
        access_token: str,
        phone_number_id: str,
        webhook_url: str | None = None,
        port: int | None = None,
        version: str = "v26.0",
        display_phone_number: str = "15550001234",
        waba_id: str = "102290129340398",
    ) -> None:
        self.app_secret = app_secret
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.webhook_url = webhook_url
        self.port = port if port is not None else free_port()
        self.version = version
        self.display_phone_number = display_phone_number
        self.waba_id = waba_id
        self.delay_seconds: float = 0.0
        self.sent: list[Sent] = []
        self.receipts: list[dict] = []
        self.rejected: list[Rejected] = []
        self.requests_seen = 0
        self._failures: list[tuple[int, int]] = []  # (status, code) for each of the next POSTs to fail
        self._last_activity = 0.0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def api_base(self) -> str:
        """What our channel should use as ``WHATSAPP_API_BASE``."""
        return f"http://127.0.0.1:{self.port}/{self.version}"

    # ----------------------------------------------------------------- Graph API server (us -> Meta)

    def start(self) -> None:
        if self._server is not None:
            return
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, body = simulator._handle(self.path, self.headers.get("Authorization"), raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        # A short poll interval keeps stop() quick; the default (0.5 s) adds up over many tests.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail_next(self, count: int, status: int = 503, code: int | None = None) -> None:
        """Make the next ``count`` POSTs (sends or receipts) fail with ``status`` and a Meta-style error.

        Without ``code``, a 429 gets 130429 ("Rate limit hit") and anything else 131000 ("Something went wrong").
        """
        if code is None:
            code = 130429 if status == 429 else 131000
        with self._lock:
            self._failures.extend([(status, code)] * count)

    def _reject(self, payload: dict | None, reason: str, status: int = 400, code: int = 100) -> tuple[int, dict]:
        with self._lock:
            self.rejected.append(Rejected(payload, reason, status))
        return status, _error_body(code, f"(#{code}) {ERROR_TITLES.get(code, 'Invalid parameter')}", reason)

    def _handle(self, path: str, authorization: str | None, raw: bytes) -> tuple[int, dict]:
        """Answer one POST: injected failure, routing, auth, then the Cloud API's validation rules."""
        with self._lock:
            self.requests_seen += 1
            self._last_activity = time.monotonic()
            failure = self._failures.pop(0) if self._failures else None
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        try:
            return self._answer(path, authorization, raw, failure)
        except Exception as exc:  # answer rather than drop the connection, and say so in `rejected`
            return self._reject(None, f"simulator bug: {exc!r}", 500)
        finally:
            with self._lock:
                self._last_activity = time.monotonic()

    def _answer(
        self, path: str, authorization: str | None, raw: bytes, failure: tuple[int, int] | None
    ) -> tuple[int, dict]:
        if failure is not None:
            status, code = failure
            title = ERROR_TITLES.get(code, "Simulated failure")
            return status, _error_body(code, f"(#{code}) {title}", f"simulated failure ({status})")
        match = _PATH.match(path.split("?", 1)[0])
        if match is None or match["version"] != self.version:
            return self._reject(None, f"unknown path {path} (expected /{self.version}/<phone number id>/messages)", 404)
        if authorization != f"Bearer {self.access_token}":
            reason = "missing Bearer token" if not authorization else "wrong access token"
            return self._reject(None, reason, 401, 190)
        if match["phone_number_id"] != self.phone_number_id:
            status, body = self._reject(None, f"unknown phone number id {match['phone_number_id']}", 400)
            body["error"]["error_subcode"] = 33
            return status, body
        try:
            payload = json.loads(raw)
        except ValueError:
            return self._reject(None, "the body is not valid JSON")
        try:
            if isinstance(payload, dict) and payload.get("status") == "read":
                validate_receipt(payload)
                with self._lock:
                    self.receipts.append(payload)
                return 200, {"success": True}
            validate_send(payload)
        except MetaWouldReject as invalid:
            return self._reject(payload if isinstance(payload, dict) else None, str(invalid))
        sent = Sent(payload, "wamid.SIM" + uuid.uuid4().hex, time.monotonic())
        with self._lock:
            self.sent.append(sent)
        contact: dict[str, str] = {"input": payload.get("to") or payload["recipient"]}
        if payload.get("to"):
            contact["wa_id"] = payload["to"].lstrip("+")
        if payload.get("recipient"):
            contact["user_id"] = payload["recipient"]
        return 200, {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": sent.message_id}]}

    # ----------------------------------------------------------------- looking at what was sent

    def sent_to(self, recipient: str) -> list[Sent]:
        """Sends addressed to this phone number (with or without +) or business-scoped id."""
        with self._lock:
            sends = list(self.sent)
        return [
            s
            for s in sends
            if str(s.payload.get("to", "")).lstrip("+") == recipient.lstrip("+")
            or s.payload.get("recipient") == recipient
        ]

    def summary(self) -> str:
        """What was sent and refused so far, for assertion messages."""
        with self._lock:
            sends, rejected = list(self.sent), list(self.rejected)
        lines = [f"{len(sends)} sent, {len(rejected)} rejected, {self.requests_seen} requests seen"]
        lines += [f"  sent {s.kind} to {s.recipient}: {s.text[:80]!r} {s.choices or ''}" for s in sends]
        lines += [f"  rejected ({r.status}): {r.reason}" for r in rejected]
        return "\n".join(lines)

    def wait_for_sends(self, count: int, timeout: float = 30.0, recipient: str | None = None) -> list[Sent]:
        deadline = time.monotonic() + timeout
        while True:
            if recipient is not None:
                sends = self.sent_to(recipient)
            else:
                with self._lock:
                    sends = list(self.sent)
            if len(sends) >= count:
                return sends
            if time.monotonic() >= deadline:
                to = f" to {recipient}" if recipient else ""
                raise AssertionError(
                    f"expected {count} sends{to} within {timeout:g}s, got {len(sends)}\n{self.summary()}"
                )
            time.sleep(0.05)

    def wait_quiet(self, seconds: float = 1.0, timeout: float = 30.0) -> None:
        """Wait for the end of a bot turn: no POST at all (send, receipt or failed attempt) for ``seconds``.

        The quiet period never starts before this call, so a turn that has not begun yet is waited for too.
        """
        start = time.monotonic()
        deadline = start + timeout
        while True:
            now = time.monotonic()
            with self._lock:
                last = max(self._last_activity, start)
            if now - last >= seconds:
                return
            if now >= deadline:
                raise AssertionError(f"still busy after {timeout:g}s\n{self.summary()}")
            time.sleep(0.05)

    # ----------------------------------------------------------------- webhooks (Meta -> us)

    def deliver(self, body: dict | bytes, *, signature: str | None = "valid", timeout: float = 30) -> requests.Response:
        """POST a webhook to ``webhook_url`` as Meta would.

        ``signature="valid"`` signs the exact bytes sent; None omits the header; anything else is sent verbatim
        (to test that we refuse forged or stale signatures). A dict is serialised once, compactly, so the signed
        bytes and the sent bytes are the same.
        """
        if self.webhook_url is None:
            raise ValueError("GraphSimulator.webhook_url is not set")
        raw = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if signature == "valid":
            headers["X-Hub-Signature-256"] = signature_for(self.app_secret, raw)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return requests.post(self.webhook_url, data=raw, headers=headers, timeout=timeout)

    def _envelope(self, value: dict) -> dict:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": self.display_phone_number, "phone_number_id": self.phone_number_id},
            **value,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.waba_id, "changes": [{"field": "messages", "value": value}]}],
        }

    def message_webhook(self, sender: Contact, message: dict) -> dict:
        """The full webhook for one inbound message; keys already in ``message`` (such as "id") win."""
        envelope: dict[str, Any] = {}
        if sender.wa_id is not None:
            envelope["from"] = sender.wa_id
        if sender.user_id is not None:
            envelope["from_user_id"] = sender.user_id
        envelope["id"] = "wamid.IN" + uuid.uuid4().hex
        envelope["timestamp"] = str(int(time.time()))
        return self._envelope({"contacts": [sender.as_webhook_contact()], "messages": [{**envelope, **message}]})

    def _deliver_message(self, sender: Contact, message: dict, message_id: str | None, **kw: Any) -> requests.Response:
        if message_id is not None:
            message = {"id": message_id, **message}
        return self.deliver(self.message_webhook(sender, message), **kw)

    def send_text(self, sender: Contact, text: str, *, message_id: str | None = None, **kw: Any) -> requests.Response:
        return self._deliver_message(sender, {"type": "text", "text": {"body": text}}, message_id, **kw)

    def tap_button(
        self, sender: Contact, sent: Sent, title: str, *, message_id: str | None = None, **kw: Any
    ) -> requests.Response:
        """The user taps the reply button or list row titled ``title`` in an earlier accepted send.

        A list reply carries the row's description only when the row had one, as Meta does.
        """
        row = sent.row(title)
        if row is None:
            raise AssertionError(f"no button or row titled {title!r} in that {sent.kind}; it offers {sent.choices}")
        if sent.kind == "buttons":
            interactive = {"type": "button_reply", "button_reply": {"id": row["id"], "title": row["title"]}}
        else:
            reply = {key: row[key] for key in ("id", "title", "description") if key in row}
            interactive = {"type": "list_reply", "list_reply": reply}
        message = {
            "context": {"from": self.display_phone_number, "id": sent.message_id},
            "type": "interactive",
            "interactive": interactive,
        }
        return self._deliver_message(sender, message, message_id, **kw)

    def tap_template_button(
        self, sender: Contact, payload: str, text: str, *, message_id: str | None = None, **kw: Any
    ) -> requests.Response:
        """The user taps a quick-reply button of a template message."""
        message = {"type": "button", "button": {"payload": payload, "text": text}}
        return self._deliver_message(sender, message, message_id, **kw)

    def send_media(
        self, sender: Contact, kind: str, *, caption: str | None = None, message_id: str | None = None, **kw: Any
    ) -> requests.Response:
        """Something the bot cannot read as text: image, audio (a voice note), video, document, sticker,
        location or contacts."""

        def media(mime_type: str, **extra: Any) -> dict:
            fields = {
                "id": str(int.from_bytes(os.urandom(7), "big")),
                "mime_type": mime_type,
                "sha256": base64.b64encode(hashlib.sha256(os.urandom(16)).digest()).decode(),
                **extra,
            }
            if caption is not None and kind in ("image", "video", "document"):
                fields["caption"] = caption
            return fields

        bodies: dict[str, Any] = {
            "image": lambda: media("image/jpeg"),
            "audio": lambda: media("audio/ogg; codecs=opus", voice=True),
            "video": lambda: media("video/mp4"),
            "document": lambda: media("application/pdf", filename="referral.pdf"),
            "sticker": lambda: media("image/webp", animated=False),
            "location": lambda: {
                "latitude": 51.5194,
                "longitude": -0.1270,
                "name": "British Museum",
                "address": "Great Russell St, London WC1B 3DG",
            },
            "contacts": lambda: [
                {
                    "name": {"formatted_name": "Sam Example", "first_name": "Sam", "last_name": "Example"},
                    "phones": [{"phone": "+44 7700 900456", "wa_id": "447700900456", "type": "CELL"}],
                }
            ],
        }
        if kind not in bodies:
            raise ValueError(f"unknown media kind {kind!r}; use one of {sorted(bodies)}")
        return self._deliver_message(sender, {"type": kind, kind: bodies[kind]()}, message_id, **kw)

    def deliver_status(self, sent: Sent, status: str, *, error_code: int | None = None, **kw: Any) -> requests.Response:
        """A delivery status webhook for an earlier send. A "failed" status defaults to error 131047 (the
        24-hour customer service window has closed), the failure a clinic bot is most likely to meet."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        entry: dict[str, Any] = {"id": sent.message_id, "status": status, "timestamp": str(int(time.time()))}
        if sent.payload.get("to"):
            entry["recipient_id"] = sent.payload["to"].lstrip("+")
        if sent.payload.get("recipient"):
            entry["recipient_user_id"] = sent.payload["recipient"]
        if status == "failed" or error_code is not None:
            code = error_code if error_code is not None else 131047
            title = ERROR_TITLES.get(code, "Message failed to send")
            details = (
                "Message failed to send because more than 24 hours have passed since the customer last replied."
                if code == 131047
                else f"{title} (simulated)"
            )
            entry["errors"] = [{"code": code, "title": title, "message": title, "error_data": {"details": details}}]
        return self.deliver(self._envelope({"statuses": [entry]}), **kw)
