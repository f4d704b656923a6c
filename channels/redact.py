"""What logs may say about visitors: references and counts, never their words, numbers or keys.

Conversation ids are not harmless labels: a WhatsApp conversation is keyed on the visitor's
phone number, and a web chat's session id is the only key to that conversation. Logs name a
conversation by the first 12 hex digits of the id's SHA-256 instead (`conversation_ref`):
enough to follow one conversation through the log, or to find the lines about an id you
already have (the same id gives the same reference). It is a pseudonym, not encryption:
whoever can read the log and guesses a number can check the guess, so logs still belong with
the other personal data.

Rasa's own structured log events (structlog) quote message text when something goes wrong:
a REST turn cut off because the client hung up is logged with the message it was answering.
`redact_server_logs` puts a processor at the head of the chain Rasa configured, which
replaces the values Rasa itself marks as content (the keys its `_anonymizer` knows, such as
`text`, `user_text`, `message`, `response`) by their kind and length, and conversation ids by
their reference. The chain is changed in place because Rasa's loggers cache it on first use.
And a `?token=` in a URL that Sanic logs is masked.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

import structlog

TOKEN_IN_URL = re.compile(r"((?:token|access_token|hub\.verify_token)=)[^&\s'\"]+", re.IGNORECASE)
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access")
# What rasa.utils.log_utils._anonymizer treats as content, and the ids that name a visitor.
CONTENT_KEYS = frozenset(
    {
        "text", "response_text", "user_text", "slot_values", "parse_data_text", "parse_data_entities",
        "prediction_events", "tracker_latest_message", "prefilled_slots", "message", "response",
        "slot_candidates", "rasa_event", "rasa_events", "tracker_states", "current_states", "old_states",
        "successes", "current_entity", "next_entity", "states", "entity", "token_text", "user_message",
        "json_message",
    }
)  # fmt: skip
ID_KEYS = frozenset({"sender_id", "conversation_id"})


def conversation_ref(conversation_id: str | None) -> str:
    digest = hashlib.sha256((conversation_id or "").encode("utf-8", "surrogateescape")).hexdigest()
    return f"conversation {digest[:12]}"


def described(value: Any) -> str:
    size = f", {len(value)} long" if hasattr(value, "__len__") else ""
    return f"<{type(value).__name__}{size}, not logged>"


def redact_event(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: content described, ids referenced."""
    for key in CONTENT_KEYS.intersection(event):
        event[key] = described(event[key])
    for key in ID_KEYS.intersection(event):
        event[key] = conversation_ref(str(event[key]))
    return event


class TokenFilter(logging.Filter):
    """Masks tokens in query strings (Rasa's HTTP API takes ?token=…) in whatever Sanic logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN_IN_URL.search(message):
            record.msg, record.args = TOKEN_IN_URL.sub(r"\1[redacted]", message), None
        return True


_token_filter = TokenFilter()


def redact_server_logs() -> None:
    """Installs both in this process (idempotent): the Rasa server calls it before serving."""
    processors = structlog.get_config()["processors"]
    if isinstance(processors, list) and redact_event not in processors:
        processors.insert(0, redact_event)
    for name in SANIC_LOGGERS:
        logger = logging.getLogger(name)
        if _token_filter not in logger.filters:
            logger.addFilter(_token_filter)
