"""Delivers the outbox: bookings to the clinic's booking system, handoffs to staff.

Runs as its own process (`python -m actions.delivery`, started by `make run`) so a slow or
down receiver never delays a visitor's reply. Several workers may run at once (on several
machines sharing one PostgreSQL database); each row is still sent by one of them at a time.
Each message is sent as signed JSON:

    X-Signature-Timestamp: <Unix time of this attempt, in seconds>
    X-Signature-256: sha256=<hex HMAC-SHA256 of "<timestamp>." + the raw body>   (*_WEBHOOK_SECRET)
    Idempotency-Key: <booking, handoff or erasure reference>

The timestamp is signed with the body, so a receiver can refuse a captured request replayed
later (examples/webhook_receiver.py shows how).

Claims and leases. A worker claims a few due rows at a time (CLAIM_BATCH, so no worker hoards
them) before sending: it writes its id (host-pid-random) and a lease, DELIVERY_LEASE_SECONDS
(60 s by default, well over the 10 s HTTP and SMTP timeouts), on each. On PostgreSQL the
claim reads the rows with SELECT … FOR UPDATE SKIP LOCKED, so workers take different rows
without waiting on each other; each claim is also a compare-and-set (UPDATE … WHERE the lease
is free, counting the rows changed), which is what makes it safe on SQLite, where FOR UPDATE
does not exist. A worker renews a row's lease just before sending it (a slow batch never
outlives its leases) and records a result only while the row is still claimed by it, so a
worker that lost its lease cannot overwrite the new owner's result. A worker that dies
mid-send leaves a lease that runs out: another worker sends the row again, and the receiver
drops the repeat by its Idempotency-Key. An erasure event waits while an earlier booking is
still being sent, so the booking system never gets a booking after the erasure that removes
it. Leases are compared across machines: keep the workers' clocks in sync (NTP).

Results. 2xx → delivered. 408, 429 (the receiver asks us to slow down), 5xx, a timeout or a
refused connection → retried: after the receiver's Retry-After when it sends one (seconds or
an HTTP date, at most MAX_RETRY_SECONDS), else after an exponential backoff with jitter, a
random delay between half and all of 2 s, 4 s, 8 s … 600 s: rows that failed together (the
booking system was down) then come back spread out, not all in the same second, which could
knock a recovering receiver over again. Other 4xx → rejected for good: the booking is flagged
for staff. After DELIVERY_MAX_ATTEMPTS attempts (20 by default, one to two hours of trying)
the row is `failed` and flagged for staff too: a receiver that stays down needs a person, not
an endless loop. Because the state is in the database, a restart of any process loses nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import random
import secrets
import signal
import smtplib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import requests
from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import aliased

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
LEASE_SECONDS = 60.0  # DELIVERY_LEASE_SECONDS: how long a claim keeps other workers off a row
MAX_ATTEMPTS = 20  # DELIVERY_MAX_ATTEMPTS: then the row is failed and flagged for staff
CLAIM_BATCH = 10
MIN_RETRY_SECONDS = 1.0  # a retry is never signed with its attempt's timestamp: receivers drop those as replays
RETRIED_4XX = (408, 429)  # Request Timeout, Too Many Requests: "not now", not "never"
SECRETS = {
    "booking": "BOOKING_WEBHOOK_SECRET",
    "handoff": "STAFF_WEBHOOK_SECRET",
    "erasure": "BOOKING_WEBHOOK_SECRET",
    "screening_update": "BOOKING_WEBHOOK_SECRET",  # a booking's screening outcome changed (booking/updates.py)
    "staff_update": "STAFF_WEBHOOK_SECRET",
}
PURGE_EVERY = timedelta(hours=24)

_jitter = random.SystemRandom()  # not seeded from a state that forked processes could share
_worker: tuple[int, str] | None = None


def worker_id() -> str:
    """This process's name in `claimed_by`: host, pid and a random part (pids are reused)."""
    global _worker
    if _worker is None or _worker[0] != os.getpid():
        _worker = (os.getpid(), f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}")
    return _worker[1]


def lease_duration() -> timedelta:
    return timedelta(seconds=float(os.environ.get("DELIVERY_LEASE_SECONDS", LEASE_SECONDS)))


def max_attempts() -> int:
    return max(1, int(os.environ.get("DELIVERY_MAX_ATTEMPTS", MAX_ATTEMPTS)))


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The X-Signature-256 value; receivers recompute it and compare with hmac.compare_digest."""
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def backoff_ceiling(attempts: int) -> float:
    """2, 4, 8 … seconds after the 1st, 2nd, 3rd … failed attempt, at most MAX_RETRY_SECONDS."""
    return min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** min(max(0, attempts - 1), 30))


def backoff(attempts: int, rng: random.Random = _jitter) -> timedelta:
    """ "Equal jitter": between half the ceiling and the ceiling, so the delay still grows but
    rows that failed together spread out instead of retrying in lockstep."""
    ceiling = backoff_ceiling(attempts)
    return timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (delay in seconds, or an HTTP date) as seconds from now, capped."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or records.utcnow())).total_seconds()
    return min(MAX_RETRY_SECONDS, max(0.0, seconds))


@dataclass(frozen=True)
class Result:
    delivered: bool
    permanent: bool = False
    error: str = ""
    retry_after: float | None = None  # seconds, when the receiver said when to come back


@dataclass(frozen=True)
class Job:
    """A claimed outbox row: what a worker holds between claiming it and recording the result."""

    id: int
    kind: str
    idempotency_key: str
    target: str
    destination: str
    body: str
    attempts: int

    @classmethod
    def of(cls, row: OutboxMessage) -> Job:
        return cls(row.id, row.kind, row.idempotency_key, row.target, row.destination, row.body, row.attempts)


def post(message: Job | OutboxMessage) -> Result:
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
    status = reply.status_code
    if 200 <= status < 300:
        return Result(True)
    error = f"HTTP {status}: {reply.text[:300]}"
    if 400 <= status < 500 and status not in RETRIED_4XX:
        return Result(False, permanent=True, error=error)
    return Result(False, error=error, retry_after=retry_after_seconds(reply.headers.get("Retry-After")))


def email(message: Job | OutboxMessage) -> Result:
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


def _lease_free(clock: datetime):
    return or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < clock)


def _claimable(now: datetime, clock: datetime):
    """Due, pending and not leased; an erasure event also waits for earlier bookings in flight,
    and a booking's screening update for that booking to be delivered (or given up)."""
    earlier = aliased(OutboxMessage)
    booking_in_flight = exists().where(
        earlier.kind == "booking", earlier.id < OutboxMessage.id, earlier.lease_until >= clock
    )
    own_booking_pending = exists().where(
        earlier.kind == "booking",
        earlier.status == "pending",
        OutboxMessage.idempotency_key.like(earlier.idempotency_key + ":%"),
    )
    return (
        (OutboxMessage.status == "pending")
        & (OutboxMessage.next_attempt_at <= now)
        & _lease_free(clock)
        & ((OutboxMessage.kind != "erasure") | ~booking_in_flight)
        & ((OutboxMessage.kind != "screening_update") | ~own_booking_pending)
    )


def _claim(
    worker: str, now: datetime, url: str | None, after_id: int = 0, batch: int = CLAIM_BATCH
) -> tuple[list[Job], int | None]:
    """Claims up to `batch` due rows after `after_id`; also returns the last id looked at (None: none left)."""
    clock = records.utcnow()
    with records.session(url) as db:
        candidates = (
            select(OutboxMessage)
            .where(OutboxMessage.id > after_id, _claimable(now, clock))
            .order_by(OutboxMessage.id)
            .limit(batch)
        )
        if db.get_bind().dialect.name == "postgresql":  # others' candidates are skipped, not waited for
            candidates = candidates.with_for_update(skip_locked=True, of=OutboxMessage)
        rows = list(db.scalars(candidates))
        jobs = []
        for row in rows:
            taken = db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, _claimable(now, clock))
                .values(claimed_by=worker, lease_until=clock + lease_duration())
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:
                jobs.append(Job.of(row))
        return jobs, (rows[-1].id if rows else None)


def claim(worker: str, now: datetime | None = None, url: str | None = None, batch: int = CLAIM_BATCH) -> list[Job]:
    """Claims up to `batch` due rows for this worker, oldest first; no other worker gets them."""
    return _claim(worker, now or records.utcnow(), url, batch=batch)[0]


def renew(job: Job, worker: str, url: str | None = None) -> bool:
    """A full lease from now, just before sending; False if the row is no longer ours to send."""
    clock = records.utcnow()
    with records.session(url) as db:
        renewed = db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == job.id, OutboxMessage.claimed_by == worker, OutboxMessage.status == "pending")
            .values(lease_until=clock + lease_duration())
            .execution_options(synchronize_session=False)
        )
        return renewed.rowcount == 1


def release(jobs: list[Job], worker: str, url: str | None = None) -> None:
    """Gives back claimed rows not sent (stopping, or no longer pending), for any worker to take now."""
    if not jobs:
        return
    with records.session(url) as db:
        db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([job.id for job in jobs]), OutboxMessage.claimed_by == worker)
            .values(lease_until=None)
            .execution_options(synchronize_session=False)
        )


def outcome(result: Result, attempts: int) -> str:
    """delivered | rejected (refused for good) | failed (the retry cap) | retry."""
    if result.delivered:
        return "delivered"
    if result.permanent:
        return "rejected"
    return "failed" if attempts >= max_attempts() else "retry"


def record(job: Job, result: Result, worker: str, url: str | None = None) -> bool:
    """Stores the attempt's result, only if the row is still this worker's; True if stored.

    A failure is not stored on a row that stopped being pending meanwhile (an erasure
    cancelled it); a delivery is, as it happened.
    """
    now = records.utcnow()
    attempts = job.attempts + 1
    state = outcome(result, attempts)
    values: dict = {"attempts": attempts, "lease_until": None}
    if state == "delivered":
        values |= {"status": "delivered", "delivered_at": now, "last_error": None}
    elif state == "rejected":
        values |= {"status": "rejected", "last_error": result.error}
    elif state == "failed":
        values |= {"status": "failed", "last_error": f"gave up after {attempts} attempts; last: {result.error}"}
    else:
        wait = backoff(attempts) if result.retry_after is None else timedelta(seconds=result.retry_after)
        delay = max(timedelta(seconds=MIN_RETRY_SECONDS), wait)
        values |= {"last_error": result.error, "next_attempt_at": now + delay}
    mine = [OutboxMessage.id == job.id, OutboxMessage.claimed_by == worker]
    still_pending = [] if state == "delivered" else [OutboxMessage.status == "pending"]
    with records.session(url) as db:
        stored = db.execute(
            update(OutboxMessage)
            .where(*mine, *still_pending)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if stored.rowcount != 1:
            db.execute(update(OutboxMessage).where(*mine).values(lease_until=None))
            return False
        _update_record(db, job, state)
    return True


def deliver_due(
    now: datetime | None = None,
    url: str | None = None,
    worker: str | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> int:
    """Claims what is due, a batch at a time, and tries each once; returns how many were delivered.

    One pass walks the due rows in id order, so a row retried during the pass waits for the next.
    """
    now = now or records.utcnow()
    worker = worker or worker_id()
    delivered, after = 0, 0
    while not stopping():
        jobs, after = _claim(worker, now, url, after_id=after)
        if after is None:
            break
        unsent = list(jobs)
        try:
            while unsent and not stopping():
                job = unsent.pop(0)
                if not renew(job, worker, url):
                    logger.warning(
                        "%s %s: no longer ours to send (lease lost or cancelled)", job.kind, job.idempotency_key
                    )
                    release([job], worker, url)
                    continue
                result = SENDERS[job.target](job)
                stored = record(job, result, worker, url)
                delivered += 1 if stored and result.delivered else 0
                log = logger.info if result.delivered else logger.warning
                state = outcome(result, job.attempts + 1) if stored else "not recorded: no longer ours"
                log("%s %s via %s: %s (%s)", job.kind, job.idempotency_key, job.target, result.error or "ok", state)
        finally:
            release(unsent, worker, url)
    return delivered


def _update_record(db, job: Job, state: str) -> None:
    """Mirror the delivery state on the booking, so staff see at a glance what needs them."""
    if job.kind != "booking":
        return
    booking = db.scalars(select(Booking).where(Booking.reference == job.idempotency_key)).one_or_none()
    if booking is None:
        return
    if state == "delivered":
        booking.status = "delivered"
    elif state in ("rejected", "failed"):
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
    worker = worker_id()
    database = records.engine().url.render_as_string(hide_password=True)
    logger.info("Delivery worker %s started (database %s)", worker, database)
    chores = PrivacyChores()
    while not stopping:
        try:
            deliver_due(worker=worker, stopping=lambda: stopping)
            chores.run(records.utcnow())
        except Exception:  # a bad row or a database hiccup must not stop deliveries for good
            logger.exception("Delivery pass failed; retrying")
        deadline = time.monotonic() + poll_seconds
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    run(float(os.environ.get("DELIVERY_POLL_SECONDS", "1.0")))
