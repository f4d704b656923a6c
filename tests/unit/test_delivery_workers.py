"""Several delivery workers on one database (SQLite, and PostgreSQL as several machines share it):
each outbox row is POSTed once, a crashed worker's row is sent again once its lease runs out,
a worker that lost its lease cannot overwrite a result, and retries, Retry-After and the retry
cap behave as the booking system and staff need.

The booking system is a real HTTP server on 127.0.0.1 built from examples/webhook_receiver.py
(it checks signatures and stores each Idempotency-Key once); it also counts every raw POST.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from actions import delivery, records
from actions.records import Booking, Handoff, OutboxMessage
from console import queues
from examples.webhook_receiver import Store, Verifier
from tests.databases import fresh_database
from tools.servers import PROJECT_ROOT, ServerProcess

SECRET = "workers-secret"
WAIT_SECONDS = 20.0  # every wait below is bounded by this


class BookingSystem:
    """The clinic's booking system: verifies, stores each Idempotency-Key once, counts raw POSTs.

    `answer(key)` gives the status and headers to reply with; `hold_first` keeps the very first
    POST open (after storing it) until the event is set; `pair_up` makes the first POSTs wait
    (at most 10 s) until two are in flight at once, which only two workers sending together can do.
    """

    def __init__(self) -> None:
        self.store = Store()
        self.verifier = Verifier(SECRET)
        self.posts: list[tuple[str, float]] = []  # (Idempotency-Key, time.time()) of every POST
        self.stored: Counter[str] = Counter()  # keys stored as new (a repeat is acknowledged only)
        self.problems: list[str] = []  # why requests were refused (bad signature…): none expected
        self.answer: Callable[[str], tuple[int, dict[str, str]]] = lambda key: (200, {})
        self.hold_first: threading.Event | None = None
        self.pair_up = False
        self.delay = 0.0
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        system = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Idempotency-Key", "")
                with system.lock:
                    system.posts.append((key, time.time()))
                    first = len(system.posts) == 1
                    system.in_flight += 1
                    system.max_in_flight = max(system.max_in_flight, system.in_flight)
                try:
                    system.handle(self, key, body, first)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker was killed while we held its request
                finally:
                    with system.lock:
                        system.in_flight -= 1

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bookings"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def handle(self, request: BaseHTTPRequestHandler, key: str, body: bytes, first: bool) -> None:
        deadline = time.monotonic() + 10
        while self.pair_up and self.max_in_flight < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(self.delay)
        if problem := self.verifier.problem(request.headers, body):
            status, headers = 401, {}
            self.problems.append(problem)
        else:
            status, headers = self.answer(key)
        if 200 <= status < 300:
            with self.lock:
                if self.store.save(key, json.loads(body)):
                    self.stored[key] += 1
        if first and self.hold_first is not None:
            self.hold_first.wait(WAIT_SECONDS)
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", "2")
        request.end_headers()
        request.wfile.write(b"{}")

    def posts_of(self, key: str) -> list[float]:
        return [at for k, at in self.posts if k == key]

    def stop(self) -> None:
        if self.hold_first is not None:
            self.hold_first.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def migrated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database of each kind for the module (migrating takes a second)."""
    with fresh_database(request.param, tmp_path_factory.mktemp("records")) as url:
        yield url


@pytest.fixture
def database(migrated: str, monkeypatch: pytest.MonkeyPatch) -> str:
    with records.session(migrated) as db:
        for model in (OutboxMessage, Booking, Handoff):
            db.execute(delete(model))
    monkeypatch.setenv("BOOKING_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("STAFF_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("DELIVERY_MAX_ATTEMPTS", raising=False)
    monkeypatch.delenv("DELIVERY_LEASE_SECONDS", raising=False)
    return migrated


@pytest.fixture
def booking_system() -> Iterator[BookingSystem]:
    system = BookingSystem()
    try:
        yield system
    finally:
        system.stop()


def queue_bookings(url: str, destination: str, count: int = 1) -> list[str]:
    now = records.utcnow()
    references = []
    with records.session(url) as db:
        for n in range(count):
            booking = Booking(
                reference=records.new_reference("BK"), conversation_id=f"c{n}", channel="rest",
                kind="laser_consultation", name="Maria", phone="+447400123456",
                window_start=now + timedelta(days=1), window_end=now + timedelta(days=1, hours=2),
                preferred_time_text="tomorrow", concern="scars", contact_consent=True, created_at=now,
            )  # fmt: skip
            db.add(booking)
            db.flush()
            records.queue(db, "booking", booking.reference, "webhook", destination, booking.as_payload())
            references.append(booking.reference)
    return references


def row(url: str, key: str) -> OutboxMessage:
    with records.session(url) as db:
        return db.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()


def booking(url: str, reference: str) -> Booking:
    with records.session(url) as db:
        return db.scalars(select(Booking).where(Booking.reference == reference)).one()


def expire_lease(url: str, key: str) -> None:
    """As if the lease had run out (the worker holding it stopped answering)."""
    with records.session(url) as db:
        db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.idempotency_key == key)
            .values(lease_until=records.utcnow() - timedelta(seconds=1))
        )


def wait_until(condition: Callable[[], object], what: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout:.0f}s")


class Worker:
    """`python -m actions.delivery`, as production runs it, with its own log file."""

    def __init__(self, url: str, work: Path, name: str, **env: str) -> None:
        self.log_path = work / f"{name}.log"
        self.log = self.log_path.open("wb")
        environment = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "DATABASE_URL": url,
            "TRACKER_DATABASE_URL": f"sqlite:///{work / 'tracker.db'}",  # the retention chore's, kept here
            "BOOKING_WEBHOOK_SECRET": SECRET,
            "DELIVERY_POLL_SECONDS": "0.05",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            **env,
        }
        for unset in ("BOOKING_WEBHOOK_URL", "STAFF_WEBHOOK_URL", "SMTP_HOST"):
            environment.pop(unset, None)
        command = [sys.executable, "-m", "actions.delivery"]
        self.process = ServerProcess(name, command, None, environment, self.log)
        self.process.start()
        self.id = ""

    @property
    def pid(self) -> int:
        return self.process.process.pid

    def started(self) -> bool:
        if found := re.search(rb"Delivery worker (\S+) started", self.log_path.read_bytes()):
            self.id = found.group(1).decode()
        assert self.process.exited() is None, self.log_path.read_text(errors="replace")[-3000:]
        return bool(self.id)

    def kill(self) -> None:
        os.killpg(self.pid, signal.SIGKILL)
        self.process.process.wait(WAIT_SECONDS)

    def stop(self) -> None:
        self.process.stop(grace_seconds=5)
        self.log.close()


def start_workers(url: str, work: Path, count: int, **env: str) -> list[Worker]:
    workers = [Worker(url, work, f"worker-{n}", **env) for n in range(count)]
    try:
        wait_until(lambda: all([w.started() for w in workers]), "the workers started")
    except BaseException:
        for worker in workers:
            worker.stop()
        raise
    return workers


def test_two_worker_processes_post_every_row_exactly_once(
    database: str, booking_system: BookingSystem, tmp_path: Path
) -> None:
    booking_system.pair_up, booking_system.delay = True, 0.02
    workers = start_workers(database, tmp_path, 2)
    try:
        references = queue_bookings(database, booking_system.url, 30)
        wait_until(lambda: len(booking_system.stored) == 30, "all 30 bookings stored")
        wait_until(
            lambda: all(row(database, key).status == "delivered" for key in references), "all 30 recorded delivered"
        )
    finally:
        for worker in workers:
            worker.stop()
    raw = Counter(key for key, _ in booking_system.posts)
    assert raw == Counter(references), "each row POSTed exactly once, none twice, none missed"
    assert set(booking_system.stored.values()) == {1} and not booking_system.problems
    assert booking_system.max_in_flight >= 2, "both workers were sending at the same time"
    rows = [row(database, key) for key in references]
    assert {r.attempts for r in rows} == {1} and {r.lease_until for r in rows} == {None}
    assert {r.claimed_by for r in rows} == {w.id for w in workers}, "both took rows"
    assert all(booking(database, key).status == "delivered" for key in references)


def test_a_worker_killed_mid_send_is_covered_by_another_after_its_lease_and_stored_once(
    database: str, booking_system: BookingSystem, tmp_path: Path
) -> None:
    lease = 2.0
    booking_system.hold_first = threading.Event()
    workers = start_workers(database, tmp_path, 2, DELIVERY_LEASE_SECONDS=str(lease))
    try:
        (key,) = queue_bookings(database, booking_system.url)
        wait_until(lambda: booking_system.posts_of(key), "the first POST arrived")
        held = row(database, key)
        (doomed,) = [w for w in workers if w.id == held.claimed_by]
        (survivor,) = [w for w in workers if w is not doomed]
        doomed.kill()  # mid-send: the booking system has stored it, the worker never hears back
        wait_until(lambda: row(database, key).status == "delivered", "the row delivered by the other worker")
    finally:
        for worker in workers:
            worker.stop()
    _, second = booking_system.posts_of(key)
    assert second >= held.lease_until.timestamp(), "not before the dead worker's lease ran out"
    assert booking_system.stored[key] == 1 and list(booking_system.store.by_key) == [key], "stored exactly once"
    done = row(database, key)
    assert done.claimed_by == survivor.id and done.attempts == 1 and done.lease_until is None
    assert booking(database, key).status == "delivered"


def test_claims_are_exclusive_between_many_workers_at_once(database: str) -> None:
    references = set(queue_bookings(database, "http://127.0.0.1:9/unused", 30))
    start = threading.Barrier(6)
    claimed: dict[str, list[str]] = {}

    def work(worker: str) -> None:
        start.wait(WAIT_SECONDS)
        mine = claimed.setdefault(worker, [])
        empty = 0
        for _ in range(30):  # bounded; each round claims at most 3
            jobs = delivery.claim(worker, url=database, batch=3)
            mine += [job.idempotency_key for job in jobs]
            empty = 0 if jobs else empty + 1
            time.sleep(0.01)  # as a worker sends between claims: the others get their turn
            if empty == 3:
                break

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    everything = [key for keys in claimed.values() for key in keys]
    assert len(everything) == len(set(everything)), "no row claimed by two workers"
    assert set(everything) == references
    assert sum(1 for keys in claimed.values() if keys) >= 2
    assert delivery.claim("latecomer", url=database) == [], "all leased"
    with records.session(database) as db:
        owners = dict(db.execute(select(OutboxMessage.idempotency_key, OutboxMessage.claimed_by)).all())
    assert owners == {key: worker for worker, keys in claimed.items() for key in keys}


def test_a_worker_that_lost_its_lease_cannot_overwrite_the_new_owner_s_result(database: str) -> None:
    sent, retried = queue_bookings(database, "http://127.0.0.1:9/unused", 2)
    slow = {job.idempotency_key: job for job in delivery.claim("worker-a", url=database)}
    assert delivery.claim("worker-b", url=database) == [], "leased to worker-a"
    expire_lease(database, sent)
    expire_lease(database, retried)
    fresh = {job.idempotency_key: job for job in delivery.claim("worker-b", url=database)}
    assert set(fresh) == {sent, retried}
    assert not delivery.renew(slow[sent], "worker-a", url=database), "worker-a may not send it any more"

    assert delivery.record(fresh[sent], delivery.Result(True), "worker-b", url=database)
    late = delivery.Result(False, permanent=True, error="HTTP 400: stale")
    assert not delivery.record(slow[sent], late, "worker-a", url=database)
    done = row(database, sent)
    assert (done.status, done.claimed_by, done.attempts, done.last_error) == ("delivered", "worker-b", 1, None)
    assert booking(database, sent).status == "delivered" and not booking(database, sent).needs_staff

    assert delivery.record(fresh[retried], delivery.Result(False, error="HTTP 503"), "worker-b", url=database)
    assert not delivery.record(slow[retried], delivery.Result(True), "worker-a", url=database)
    waiting = row(database, retried)
    assert (waiting.status, waiting.claimed_by, waiting.last_error) == ("pending", "worker-b", "HTTP 503")
    assert booking(database, retried).status == "received"


@pytest.mark.parametrize(
    ("retry_after", "seconds"),
    [("7", 7), (None, "backoff"), ("100000", delivery.MAX_RETRY_SECONDS), ("http-date+30", 30)],
)
def test_429_is_retried_when_the_booking_system_says(
    database: str, booking_system: BookingSystem, retry_after: str | None, seconds: float | str
) -> None:
    if retry_after == "http-date+30":
        retry_after = format_datetime(records.utcnow() + timedelta(seconds=30), usegmt=True)
    booking_system.answer = lambda key: (429, {"Retry-After": retry_after} if retry_after else {})
    (key,) = queue_bookings(database, booking_system.url)
    assert delivery.deliver_due(url=database) == 0
    now = records.utcnow()
    waiting = row(database, key)
    assert waiting.status == "pending" and waiting.attempts == 1 and waiting.last_error.startswith("HTTP 429")
    assert not booking(database, key).needs_staff, "too many requests is not a refusal"
    wait = (waiting.next_attempt_at - now).total_seconds()
    if seconds == "backoff":
        assert delivery.backoff_ceiling(1) / 2 - 1 <= wait <= delivery.backoff_ceiling(1)
    else:
        assert seconds - 2 <= wait <= seconds
    assert delivery.deliver_due(url=database) == 0 and len(booking_system.posts) == 1, "not before then"


@pytest.mark.parametrize(("status", "outcome"), [(408, "pending"), (503, "pending"), (404, "rejected")])
def test_timeouts_and_server_errors_are_retried_and_404_is_refused(
    database: str, booking_system: BookingSystem, status: int, outcome: str
) -> None:
    booking_system.answer = lambda key: (status, {})
    (key,) = queue_bookings(database, booking_system.url)
    delivery.deliver_due(url=database)
    assert row(database, key).status == outcome
    assert booking(database, key).needs_staff is (outcome == "rejected")


def test_after_the_retry_cap_a_row_is_failed_and_shown_to_staff(
    database: str, booking_system: BookingSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERY_MAX_ATTEMPTS", "3")
    booking_system.answer = lambda key: (503, {})
    (key,) = queue_bookings(database, booking_system.url)
    with records.session(database) as db:
        db.add(Handoff(reference="HO-CAPPED", conversation_id="c9", channel="rest", reason="asked", contact="+4471"))
        records.queue(db, "handoff", "HO-CAPPED", "webhook", booking_system.url, {"reference": "HO-CAPPED"})
    later = records.utcnow()
    for attempt in (1, 2, 3):
        later += timedelta(seconds=delivery.MAX_RETRY_SECONDS)  # due again
        booking_system.verifier.seen.clear()  # as if time had passed: a new timestamp, a new signature
        delivery.deliver_due(now=later, url=database)
        assert row(database, key).status == ("failed" if attempt == 3 else "pending")
    assert not booking_system.problems
    failed = row(database, key)
    assert failed.attempts == 3 and failed.last_error == "gave up after 3 attempts; last: HTTP 503: {}"
    assert failed.lease_until is None and booking(database, key).needs_staff
    delivery.deliver_due(now=later + timedelta(days=1), url=database)
    assert len(booking_system.posts_of(key)) == 3, "never tried again by itself"
    with records.session(database) as db:
        (booked,) = queues.queue(db, Booking, "booking", open_only=True)
        (handoff,) = queues.queue(db, Handoff, "handoff", open_only=True)
    for item in (booked, handoff):
        assert item.flagged and item.delivery_state.startswith("refused: gave up after 3 attempts")


def test_an_erasure_event_waits_for_an_earlier_booking_still_being_sent(database: str) -> None:
    (key,) = queue_bookings(database, "http://127.0.0.1:9/unused")
    (sending,) = delivery.claim("worker-a", url=database)
    with records.session(database) as db:
        db.execute(update(OutboxMessage).where(OutboxMessage.id == sending.id).values(status="cancelled"))
        records.queue(db, "erasure", "ER-WAITS", "webhook", "http://127.0.0.1:9/unused", {"bookings": [key]})
    assert delivery.claim("worker-b", url=database) == [], "the booking may still reach the booking system"
    assert not delivery.renew(sending, "worker-a", url=database), "a cancelled booking is not sent at all"
    delivery.release([sending], "worker-a", url=database)
    (erasure,) = delivery.claim("worker-b", url=database)
    assert erasure.idempotency_key == "ER-WAITS"


def test_a_worker_stopping_gives_back_the_rows_it_has_not_sent(database: str, booking_system: BookingSystem) -> None:
    references = queue_bookings(database, booking_system.url, 5)
    sent: list[datetime] = []
    stop_after_two = lambda: len(sent) >= 2  # noqa: E731
    booking_system.answer = lambda key: (sent.append(records.utcnow()) or 200, {})
    assert delivery.deliver_due(url=database, worker="worker-a", stopping=stop_after_two) == 2
    assert [row(database, key).status for key in references].count("pending") == 3
    assert all(row(database, key).lease_until is None for key in references), "free for any worker now"
    assert delivery.deliver_due(url=database, worker="worker-b") == 3
