"""Log redaction as the Rasa server installs it, on Rasa's own structlog set-up."""

from __future__ import annotations

import logging

import pytest
import structlog
from rasa.utils.log_utils import configure_structlog

from channels.redact import conversation_ref, redact_server_logs


def test_a_conversation_is_named_by_a_reference_not_its_id() -> None:
    assert conversation_ref("447400123456") == conversation_ref("447400123456")
    assert "447400123456" not in conversation_ref("447400123456")
    assert conversation_ref("447400123456") != conversation_ref("447400123457")


def test_rasa_log_events_lose_their_text_even_from_loggers_already_in_use(caplog: pytest.LogCaptureFixture) -> None:
    configure_structlog(logging.INFO)
    caplog.set_level(logging.INFO)
    rasa_like = structlog.get_logger("rasa.core.channels.rest")
    rasa_like.info("before", text="first")  # Rasa's loggers cache their processors on first use
    redact_server_logs()
    redact_server_logs()  # idempotent
    rasa_like.error("rest.message.received.timeout", text="my phone is 07400 123456", sender_id="447400123456")
    printed = caplog.text
    assert "first" in printed, "the set-up logs as Rasa's does"
    assert "07400 123456" not in printed and "447400123456" not in printed
    assert "rest.message.received.timeout" in printed and "not logged" in printed
    assert structlog.get_config()["processors"].count(structlog.get_config()["processors"][0]) == 1


def test_tokens_in_urls_that_sanic_logs_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    redact_server_logs()
    caplog.set_level(logging.INFO, logger="sanic.error")
    logging.getLogger("sanic.error").error(
        "Exception occurred while handling uri: %s", "'http://x/status?token=s3cret&a=1'"
    )
    assert "s3cret" not in caplog.text and "token=[redacted]&a=1" in caplog.text
