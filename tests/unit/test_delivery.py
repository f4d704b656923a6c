"""The outbox against a real local receiver and a real (SQLite) database with the migrated schema.

Several workers sharing a database (claims, leases, retries, the retry cap) are tested in
test_delivery_workers.py, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect

from actions import delivery, records
from actions.booking import updates
from console import models as console_models
from console import queues
from tests.databases import fresh_database
from tests.receiver import WebhookReceiver
from tools.servers import PROJECT_ROOT, free_port

SECRET = "unit-secret"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("BOOKING_WEBHOOK_SECRET", SECRET)
        yield url


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(free_port())
    yield receiver
    receiver.stop()


def queue_booking(url: str, receiver: WebhookReceiver) -> str:
    now = records.utcnow()
    with records.session(url) as db:
        booking = records.Booking(
            reference=records.new_reference("BK"), conversation_id="c1", channel="rest", kind="laser_consultation",
            name="Maria", phone="+447400123456", window_start=now + timedelta(days=1),
            window_end=now + timedelta(days=1, hours=2), preferred_time_text="tomorrow", concern="scars",
            contact_consent=True, created_at=now,
        )  # fmt: skip
        db.add(booking)
        db.flush()
        records.queue(db, "booking", booking.reference, "webhook", receiver.url, booking.as_payload())
        return booking.reference


def outbox_row(url: str, reference: str) -> records.OutboxMessage:
    with records.session(url) as db:
        return db.query(records.OutboxMessage).filter_by(idempotency_key=reference).one()


def schema_differences(url: str) -> list:
    with records.engine(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": console_models.managed_by_metadata})
        return compare_metadata(context, records.Base.metadata)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrations_create_exactly_the_models_schema_and_the_claims_one_goes_back_and_forth(
    kind: str, tmp_path: Path
) -> None:
    with fresh_database(kind, tmp_path) as url:
        assert schema_differences(url) == []
        config = Config(str(PROJECT_ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
        config.set_main_option("sqlalchemy.url", url)
        command.downgrade(config, "0004")
        columns = {c["name"] for c in inspect(records.engine(url)).get_columns("outbox")}
        assert "lease_until" not in columns and "claimed_by" not in columns
        command.upgrade(config, "head")
        assert schema_differences(url) == []


def test_delivered_message_is_signed_and_keyed(database: str, receiver: WebhookReceiver) -> None:
    receiver.start()
    reference = queue_booking(database, receiver)
    assert delivery.deliver_due(url=database) == 1
    [received] = receiver.received
    timestamp = received.headers["X-Signature-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    signed = timestamp.encode() + b"." + received.body
    assert (
        received.headers["X-Signature-256"] == "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    )
    assert received.headers["Idempotency-Key"] == reference
    assert json.loads(received.body)["reference"] == reference
    assert outbox_row(database, reference).status == "delivered"
    assert delivery.deliver_due(url=database) == 0, "never sent twice"


def test_receiver_down_is_retried_later_with_growing_delays(database: str, receiver: WebhookReceiver) -> None:
    reference = queue_booking(database, receiver)
    assert delivery.deliver_due(url=database) == 0
    first = outbox_row(database, reference)
    assert first.status == "pending" and first.attempts == 1 and "ConnectionError" in first.last_error
    assert delivery.deliver_due(url=database) == 0 and outbox_row(database, reference).attempts == 1, "not due yet"

    receiver.start()
    assert delivery.deliver_due(now=first.next_attempt_at, url=database) == 1
    assert len(receiver.received) == 1
    assert delivery.backoff(1) < delivery.backoff(2) < delivery.backoff(3) <= delivery.backoff(30)


@pytest.mark.parametrize(
    ("status", "retried"), [(500, True), (503, True), (408, True), (400, False), (404, False), (422, False)]
)
def test_server_errors_are_retried_and_refusals_are_not(
    database: str, receiver: WebhookReceiver, status: int, retried: bool
) -> None:
    receiver.status = status
    receiver.start()
    reference = queue_booking(database, receiver)
    delivery.deliver_due(url=database)
    row = outbox_row(database, reference)
    assert row.status == ("pending" if retried else "rejected")
    with records.session(database) as db:
        booking = db.query(records.Booking).filter_by(reference=reference).one()
    assert booking.needs_staff is (not retried)


def test_signature_covers_the_timestamp_so_an_old_request_cannot_be_re_dated() -> None:
    assert (
        delivery.sign(b"{}", "k", 1700000000)
        == "sha256=" + hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    )
    assert delivery.sign(b"{}", "k", 1700000000) != delivery.sign(b"{}", "k", 1700000001)


def test_staff_email_goes_through_a_real_smtp_server(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiosmtpd.controller import Controller

    class Inbox:
        """aiosmtpd calls handle_DATA for each message received."""

        def __init__(self) -> None:
            self.messages: list = []

        async def handle_DATA(self, server, session, envelope) -> str:
            self.messages.append(envelope)
            return "250 OK"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(controller.port))
        with records.session(database) as db:
            records.queue(db, "handoff", "HO-TEST42", "email", "staff@clinic.example", {"reference": "HO-TEST42"})
        assert delivery.deliver_due(url=database) == 1
        [envelope] = inbox.messages
        assert envelope.rcpt_tos == ["staff@clinic.example"]
        assert b"HO-TEST42" in envelope.content
    finally:
        controller.stop()


@given(attempts=st.integers(min_value=1, max_value=10_000), rng=st.randoms(use_true_random=False))
def test_backoff_has_jitter_between_half_and_all_of_a_growing_ceiling(attempts: int, rng: random.Random) -> None:
    ceiling = delivery.backoff_ceiling(attempts)
    assert ceiling == min(delivery.MAX_RETRY_SECONDS, delivery.FIRST_RETRY_SECONDS * 2 ** min(attempts - 1, 30))
    delay = delivery.backoff(attempts, rng).total_seconds()
    assert ceiling / 2 <= delay <= ceiling
    # Delays grow, except where the next ceiling is the cap: then it is at least half of this one.
    capped = delivery.backoff_ceiling(attempts + 1) == delivery.MAX_RETRY_SECONDS
    assert delivery.backoff(attempts + 1, rng).total_seconds() >= delay * (0.5 if capped else 1)


def test_rows_that_failed_together_do_not_come_back_in_lockstep() -> None:
    for attempts in (1, 4, 12):
        delays = [delivery.backoff(attempts).total_seconds() for _ in range(40)]
        ceiling = delivery.backoff_ceiling(attempts)
        assert len(set(delays)) == len(delays), "each row gets its own delay"
        assert max(delays) - min(delays) > ceiling / 8, "spread over the window, not bunched"
        assert all(ceiling / 2 <= d <= ceiling for d in delays)


def test_retry_after_in_seconds_or_as_an_http_date_capped_at_the_longest_backoff() -> None:
    now = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)
    assert delivery.retry_after_seconds("7", now) == 7
    assert delivery.retry_after_seconds(" 120 ", now) == 120
    assert delivery.retry_after_seconds("86400", now) == delivery.MAX_RETRY_SECONDS
    assert delivery.retry_after_seconds(format_datetime(now + timedelta(seconds=45), usegmt=True), now) == 45
    assert delivery.retry_after_seconds("Tue, 24 Nov 2026 09:29:00 GMT", now) == 0, "a date passed: now"
    for nonsense in (None, "", "soon", "-5", "1.5", "٣"):
        assert delivery.retry_after_seconds(nonsense, now) is None, nonsense


def test_the_retry_cap_turns_a_retry_into_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERY_MAX_ATTEMPTS", "4")
    down = delivery.Result(False, error="HTTP 503")
    assert [delivery.outcome(down, n) for n in (1, 3, 4, 5)] == ["retry", "retry", "failed", "failed"]
    assert delivery.outcome(delivery.Result(True), 4) == "delivered"
    assert delivery.outcome(delivery.Result(False, permanent=True), 1) == "rejected"
    monkeypatch.delenv("DELIVERY_MAX_ATTEMPTS")
    assert delivery.max_attempts() == delivery.MAX_ATTEMPTS
    worst = sum(delivery.backoff_ceiling(n) for n in range(1, delivery.MAX_ATTEMPTS))
    assert 3600 <= worst <= 3 * 3600, "by default a receiver has one to two hours to come back"


def test_a_staff_retry_after_the_cap_gets_a_full_new_round(
    database: str, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERY_MAX_ATTEMPTS", "2")
    reference = queue_booking(database, receiver)  # the booking system is down
    for _ in range(2):
        delivery.deliver_due(now=records.utcnow() + timedelta(hours=1), url=database)
    assert outbox_row(database, reference).status == "failed"
    with records.session(database) as db:
        assert queues.retry(db, "booking", reference) == 1
    delivery.deliver_due(now=records.utcnow() + timedelta(hours=1), url=database)
    row = outbox_row(database, reference)
    assert (row.status, row.attempts) == ("pending", 1), "one failure after the retry is not the end"
    receiver.start()
    delivery.deliver_due(now=records.utcnow() + timedelta(hours=2), url=database)
    assert outbox_row(database, reference).status == "delivered"


def test_a_screening_update_waits_for_its_booking_to_be_delivered(
    database: str, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOKING_WEBHOOK_URL", receiver.url)
    reference = queue_booking(database, receiver)
    assert delivery.deliver_due(url=database) == 0, "the booking system is down"
    assert updates.queue_screening_update("c1", "not_suitable", ["pregnancy"]) == [reference]
    assert updates.queue_screening_update("c1", "not_suitable", ["pregnancy"]) == [], "told once per outcome"

    receiver.start()
    assert delivery.deliver_due(url=database) == 0, "the booking is still backing off, so its update waits"
    booking_due = outbox_row(database, reference).next_attempt_at
    assert delivery.deliver_due(now=booking_due, url=database) == 2
    assert [r.headers["Idempotency-Key"] for r in receiver.received] == [reference, f"{reference}:not_suitable"]
    with records.session(database) as db:
        booking = db.query(records.Booking).filter_by(reference=reference).one()
        assert (booking.screening_outcome, json.loads(booking.screening_reasons)) == ("not_suitable", ["pregnancy"])
