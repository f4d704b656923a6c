"""Delivers the outbox: bookings to the clinic's booking system, handoffs to staff.

Runs as its own process (`python -m actions.delivery`, started by `make run`) so a slow or
down receiver never delays a visitor's reply. Each message is sent as signed JSON:

    X-Signature-Timestamp: <Unix time of this attempt, in seconds>
    X-Signature-256: sha256=<hex HMAC-SHA256 of "<timestamp>." + the raw body>   (*_WEBHOOK_SECRET)
    Idempotency-Key: <booking, handoff or erasure reference>

The timestamp is signed with the body, so a receiver can refuse a captured request replayed
later (examples/webhook_receiver.py shows how).

2xx → delivered. 4xx → rejected for good: the booking is flagged for staff. Anything else
(5xx, timeout, connection refused) → retried with exponential backoff. Because the state is
in the database, a restart of any process loses nothing, and the receiver can drop the rare
repeat (a crash between sending and recording) by its Idempotency-Key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import signal
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import requests
from sqlalchemy import select

from actions import records
from actions.clinic_config import load_clinic_config
from actions.privacy import erasure, retention
from actions.records import Booking, OutboxMessage

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature-256"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TIMEOUT_SECONDS = 10
FIRST_RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 600.0
SECRETS = {"booking": "BOOKING_WEBHOOK_SECRET", "handoff": "STAFF_WEBHOOK_SECRET", "erasure": "BOOKING_WEBHOOK_SECRET"}
PURGE_EVERY = timedelta(hours=24)


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The X-Signature-256 value; receivers recompute it and compare with hmac.compare_digest."""
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Result:
    delivered: bool
    permanent: bool = False
    error: str = ""


def post(message: OutboxMessage) -> Result:
    body = message.body.encode()
    headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: message.idempotency_key}
    secret = os.environ.get(SECRETS[message.kind], "")
    if secret:
        timestamp = int(time.time())
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = sign(body, secret, timestamp)
    try:
        reply = requests.post(message.destination, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as error:
        return Result(False, error=f"{type(error).__name__}: {error}"[:500])
    if 200 <= reply.status_code < 300:
        return Result(True)
    return Result(
        False, permanent=400 <= reply.status_code < 500, error=f"HTTP {reply.status_code}: {reply.text[:300]}"
    )


def email(message: OutboxMessage) -> Result:
    mail = EmailMessage()
    mail["From"] = os.environ.get("SMTP_FROM", "assistant@localhost")
    mail["To"] = message.destination
    mail["Subject"] = f"Chat assistant: a visitor asked for a person ({message.idempotency_key})"
    mail.set_content("A visitor of the chat assistant asked to talk to a person.\n\n" + message.body)
    try:
        with smtplib.SMTP(
            os.environ["SMTP_HOST"], int(os.environ.get("SMTP_PORT", "25")), timeout=TIMEOUT_SECONDS
        ) as smtp:
            if os.environ.get("SMTP_USER"):
                smtp.starttls()
                smtp.login(os.environ["SMTP_USER"], os.environ.get("SMTP_PASSWORD", ""))
            smtp.send_message(mail)
    except smtplib.SMTPResponseException as error:
        return Result(False, permanent=500 <= error.smtp_code < 600, error=f"SMTP {error.smtp_code}")
    except (OSError, smtplib.SMTPException, KeyError) as error:
        return Result(False, error=f"{type(error).__name__}: {error}"[:500])
    return Result(True)


SENDERS = {"webhook": post, "email": email}


def deliver_due(now: datetime | None = None, url: str | None = None) -> int:
    """Tries every message that is due once; returns how many were delivered."""
    now = now or records.utcnow()
    with records.session(url) as db:
        due = list(
            db.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id)
            )
        )
    delivered = 0
    for message in due:
        result = SENDERS[message.target](message)
        with records.session(url) as db:
            row = db.get(OutboxMessage, message.id)
            row.attempts += 1
            if result.delivered:
                row.status, row.delivered_at, row.last_error = "delivered", records.utcnow(), None
                delivered += 1
            elif result.permanent:
                row.status, row.last_error = "rejected", result.error
            else:
                row.last_error = result.error
                row.next_attempt_at = records.utcnow() + backoff(row.attempts)
            _update_record(db, row, result)
        log = logger.info if result.delivered else logger.warning
        log("%s %s via %s: %s", message.kind, message.idempotency_key, message.target, result.error or "delivered")
    return delivered


def _update_record(db, row: OutboxMessage, result: Result) -> None:
    """Mirror the delivery state on the booking, so staff see at a glance what needs them."""
    if row.kind != "booking":
        return
    booking = db.scalars(select(Booking).where(Booking.reference == row.idempotency_key)).one()
    if result.delivered:
        booking.status = "delivered"
    elif result.permanent:
        booking.needs_staff = True


class PrivacyChores:
    """Finishes interrupted erasures on every pass, and applies retention once a day."""

    def __init__(self) -> None:
        self.last_purge: datetime | None = None

    def run(self, now: datetime) -> None:
        for reference in erasure.unfinished(now=now):
            erasure.complete(reference)
        if self.last_purge is None or now - self.last_purge >= PURGE_EVERY:
            self.last_purge = now
            removed = retention.purge(load_clinic_config().retention, now)
            logger.info("Retention purge: %s", ", ".join(f"{k} {v}" for k, v in removed.items()) or "nothing to remove")


def run(poll_seconds: float = 1.0) -> None:
    """Deliver until SIGTERM/SIGINT; each pass is short, so stopping is prompt."""
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("Delivery worker started (database %s)", records.engine().url.render_as_string(hide_password=True))
    chores = PrivacyChores()
    while not stopping:
        try:
            deliver_due()
            chores.run(records.utcnow())
        except Exception:  # a bad row or a database hiccup must not stop deliveries for good
            logger.exception("Delivery pass failed; retrying")
        deadline = time.monotonic() + poll_seconds
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    run(float(os.environ.get("DELIVERY_POLL_SECONDS", "1.0")))
