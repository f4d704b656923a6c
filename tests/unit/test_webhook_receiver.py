"""The README's example receiver: genuine deliveries in, forgeries and replays out."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import requests

from actions import delivery
from examples.webhook_receiver import TOLERANCE_SECONDS, Store, Verifier, make_server
from tools.servers import free_port

SECRET = "receiver-secret"
BODY = json.dumps({"reference": "BK-7K3Q9P", "name": "Maria"}).encode()


@pytest.fixture
def receiver() -> Iterator[SimpleNamespace]:
    store = Store()
    server = make_server(free_port(), Verifier(SECRET), store)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}/hook", store=store)
    server.shutdown()
    server.server_close()


def signed(body: bytes, timestamp: int, key: str = "BK-7K3Q9P", secret: str = SECRET) -> dict[str, str]:
    return {
        "X-Signature-Timestamp": str(timestamp),
        "X-Signature-256": delivery.sign(body, secret, timestamp),
        "Idempotency-Key": key,
        "Content-Type": "application/json",
    }


def post(receiver: SimpleNamespace, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(receiver.url, data=body, headers=headers, timeout=10)


def test_a_real_delivery_is_accepted(receiver: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKING_WEBHOOK_SECRET", SECRET)
    message = SimpleNamespace(kind="booking", body=BODY.decode(), idempotency_key="BK-7K3Q9P", destination=receiver.url)
    assert delivery.post(message).delivered
    assert receiver.store.by_key["BK-7K3Q9P"]["name"] == "Maria"


def test_a_captured_request_sent_again_is_refused(receiver: SimpleNamespace) -> None:
    headers = signed(BODY, int(time.time()))
    assert post(receiver, BODY, headers).status_code == 200
    replay = post(receiver, BODY, headers)
    assert (replay.status_code, replay.json()["error"]) == (401, "replayed")


def test_an_old_request_is_refused_even_if_never_seen(receiver: SimpleNamespace) -> None:
    stale = post(receiver, BODY, signed(BODY, int(time.time()) - TOLERANCE_SECONDS - 5))
    assert (stale.status_code, stale.json()["error"]) == (401, "too old (or clock skew)")


@pytest.mark.parametrize(
    "forge",
    [
        lambda headers: {**headers, "X-Signature-Timestamp": str(int(headers["X-Signature-Timestamp"]) + 60)},
        lambda headers: {k: v for k, v in headers.items() if k != "X-Signature-256"},
        lambda headers: {**headers, "X-Signature-256": "sha256=" + "0" * 64},
    ],
    ids=["re-dated", "unsigned", "wrong-signature"],
)
def test_forgeries_are_refused_and_not_stored(receiver: SimpleNamespace, forge) -> None:
    assert post(receiver, BODY, forge(signed(BODY, int(time.time())))).status_code == 401
    assert receiver.store.by_key == {}


def test_a_tampered_body_or_another_secret_is_refused(receiver: SimpleNamespace) -> None:
    now = int(time.time())
    assert post(receiver, BODY.replace(b"Maria", b"Mallory"), signed(BODY, now)).status_code == 401
    assert post(receiver, BODY, signed(BODY, now, secret="not-the-secret")).status_code == 401


def test_a_retry_is_acknowledged_and_stored_once(receiver: SimpleNamespace) -> None:
    first = signed(BODY, int(time.time()) - 3)
    retry = signed(BODY, int(time.time()))  # the worker re-signs every attempt
    assert post(receiver, BODY, first).status_code == 200
    assert post(receiver, BODY, retry).status_code == 200
    assert list(receiver.store.by_key) == ["BK-7K3Q9P"]


def test_an_erasure_event_removes_the_receivers_copy(receiver: SimpleNamespace) -> None:
    assert post(receiver, BODY, signed(BODY, int(time.time()))).status_code == 200
    event = json.dumps({"event": "erasure", "reference": "ER-2ABCDE", "bookings": ["BK-7K3Q9P"]}).encode()
    assert post(receiver, event, signed(event, int(time.time()), key="ER-2ABCDE")).status_code == 200
    assert "BK-7K3Q9P" not in receiver.store.by_key
