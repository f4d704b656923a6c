"""An example receiver for the assistant's webhooks (bookings, erasures, staff notifications).

Standard library only, so a clinic's IT can copy it as a starting point. It checks each
request the way docs/booking-webhook.md asks:

1. the signature, over "<X-Signature-Timestamp>." + the raw body, in constant time;
2. the timestamp, no older (or newer) than TOLERANCE_SECONDS: a request captured and
   replayed later fails here;
3. the signature not seen before within that window: a replay inside it fails here;
4. the Idempotency-Key: a repeat of something already stored is acknowledged, not stored again.

Run it:  BOOKING_WEBHOOK_SECRET=... python examples/webhook_receiver.py 8080
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300


class Verifier:
    """Accepts each correctly signed, fresh request once."""

    def __init__(self, secret: str, tolerance_seconds: int = TOLERANCE_SECONDS) -> None:
        self.secret = secret.encode()
        self.tolerance = tolerance_seconds
        self.seen: dict[str, float] = {}  # signature -> when it expires from the replay window
        self.lock = threading.Lock()

    def problem(self, headers: Mapping[str, str], body: bytes, now: float | None = None) -> str | None:
        """None if the request is genuine and new, else why it is refused."""
        now = time.time() if now is None else now
        timestamp, signature = headers.get("X-Signature-Timestamp", ""), headers.get("X-Signature-256", "")
        if not timestamp.isdigit() or not signature:
            return "unsigned"
        expected = "sha256=" + hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return "bad signature"
        if abs(now - int(timestamp)) > self.tolerance:
            return "too old (or clock skew)"
        with self.lock:
            self.seen = {s: until for s, until in self.seen.items() if until > now}
            if signature in self.seen:
                return "replayed"
            self.seen[signature] = now + 2 * self.tolerance
        return None


class Store:
    """Stand-in for the clinic's booking system: one record per Idempotency-Key."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict] = {}

    def save(self, key: str, payload: dict) -> bool:
        """True if new; False for a repeat (acknowledge it again, do not store it twice)."""
        if key in self.by_key:
            return False
        self.by_key[key] = payload
        if payload.get("event") == "erasure":  # delete your copy of the bookings it names
            for reference in payload["bookings"]:
                self.by_key.pop(reference, None)
        return True


def make_server(port: int, verifier: Verifier, store: Store) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if problem := verifier.problem(self.headers, body):
                return self.answer(401, {"error": problem})
            store.save(self.headers.get("Idempotency-Key", ""), json.loads(body))
            return self.answer(200, {"ok": True})

        def answer(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:  # bookings hold personal data: log nothing
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


if __name__ == "__main__":
    make_server(int(sys.argv[1]), Verifier(os.environ["BOOKING_WEBHOOK_SECRET"]), Store()).serve_forever()
