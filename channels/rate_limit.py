"""How fast the public may send: one small in-process rate limiter for every channel and the console.

Each key (a client address, a conversation, a console login address) has a token bucket: it
holds up to `burst` tokens and refills at `per_minute` tokens a minute; every message takes
one. A person typing (a message every couple of seconds at most, a few quick button taps) never
empties it; a script flooding the assistant does within seconds, and then gets one message
through per refilled token, each refusal saying how long to wait.

Why in-process and not Redis: the limits protect this process's event loop and database
writes, and need no extra service. The price: each server process counts for itself, so
behind a load balancer with N Rasa servers a client can send up to N times the limit (README,
"Limits on what visitors send"). Memory stays bounded: a bucket that has refilled is the same
as no bucket and is dropped, and at most `max_keys` buckets are kept (the idlest go first).

The limiter runs on the server's event loop (one thread), so it takes no lock.
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sanic import Sanic
from sanic.request import Request

SLOW_DOWN = "You're sending messages very fast, please wait a moment before sending another."
TRUSTED_PROXIES_VARIABLE = "TRUSTED_PROXIES"


@dataclass(frozen=True)
class Limit:
    """Up to `burst` at once, then `per_minute` a minute."""

    burst: int
    per_minute: float

    def __post_init__(self) -> None:
        if self.burst < 1 or self.per_minute <= 0:
            raise ValueError(f"A rate limit needs a burst of at least 1 and a positive rate, not {self}.")

    @classmethod
    def from_environment(cls, name: str, default: Limit) -> Limit:
        """RATE_LIMIT_<NAME>_PER_MINUTE and RATE_LIMIT_<NAME>_BURST, each falling back to the default."""
        prefix = f"RATE_LIMIT_{name.upper()}"
        try:
            return cls(
                burst=int(os.environ.get(f"{prefix}_BURST") or default.burst),
                per_minute=float(os.environ.get(f"{prefix}_PER_MINUTE") or default.per_minute),
            )
        except ValueError as error:
            raise ValueError(f"{prefix}_BURST and {prefix}_PER_MINUTE must be positive numbers: {error}") from None


# A person writes a message every couple of seconds at most: 30 a minute, with room for a few
# quick taps. Several visitors can share one address (an office, a mobile network's NAT).
CONVERSATION = Limit(burst=10, per_minute=30)
CLIENT = Limit(burst=30, per_minute=120)
# Console logins per address: a few mistyped passwords are fine, guessing is not. Each account
# also locks after five wrong passwords (console/accounts.py); this limit holds for any name.
LOGIN = Limit(burst=10, per_minute=5)
# The "slow down" notice on channels that cannot refuse a request (WhatsApp): once a minute.
NOTICE = Limit(burst=1, per_minute=1)


class RateLimiter:
    """Token buckets keyed by string; `clock` is injectable so tests need not sleep."""

    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.limit = limit
        self._rate = limit.per_minute / 60.0  # tokens a second
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, when), idlest first

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Takes a token for `key`: 0.0 if it may go ahead, else the seconds until it may."""
        now = self._clock()
        tokens = self._tokens(key, now)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self._rate
        self._buckets.pop(key, None)
        self._buckets[key] = (tokens, now)  # now the most recently used
        self._evict(now)
        return wait

    def allows(self, key: str) -> bool:
        return self.take(key) == 0.0

    def _tokens(self, key: str, now: float) -> float:
        if key not in self._buckets:
            return float(self.limit.burst)
        tokens, at = self._buckets[key]
        return min(float(self.limit.burst), tokens + (now - at) * self._rate)

    def _evict(self, now: float) -> None:
        """Drops the idlest buckets that have refilled (forgetting them changes nothing), and any
        over `max_keys` (those keys start again with a full bucket: the cost of bounded memory)."""
        while self._buckets:
            key = next(iter(self._buckets))
            if len(self._buckets) <= self._max_keys and self._tokens(key, now) < self.limit.burst:
                return
            del self._buckets[key]


class VisitorLimits:
    """The two limits on a visitor's message: per client address and per conversation.

    One instance per server process, shared by the REST and socket.io channels, so a client
    cannot double its allowance by switching channels. Conversations are keyed with their
    channel: a REST caller naming a WhatsApp number as its sender does not use up that
    WhatsApp visitor's allowance.
    """

    def __init__(self, client: RateLimiter, conversation: RateLimiter) -> None:
        self.client = client
        self.conversation = conversation

    @classmethod
    def from_environment(cls) -> VisitorLimits:
        return cls(
            RateLimiter(Limit.from_environment("client", CLIENT)),
            RateLimiter(Limit.from_environment("conversation", CONVERSATION)),
        )

    def wait_for_client(self, address: str) -> float:
        return self.client.take(address)

    def wait_for_conversation(self, channel: str, conversation_id: str) -> float:
        return self.conversation.take(f"{channel}:{conversation_id}")


@cache
def visitor_limits() -> VisitorLimits:
    """This process's limits (read from the environment once)."""
    return VisitorLimits.from_environment()


def retry_after(wait_seconds: float) -> int:
    """Whole seconds for a Retry-After header and for people: never 0, which would invite a retry now."""
    return max(1, math.ceil(wait_seconds))


def trust_proxies(app: Sanic) -> None:
    """Reads the client address from X-Forwarded-For only behind as many proxies as TRUSTED_PROXIES says.

    Without it (the default, 0) the header is ignored: anyone can write one, and believing it
    would let a client pick its own address, and so its own rate limit.
    """
    count = int(os.environ.get(TRUSTED_PROXIES_VARIABLE) or 0)
    if count > 0:
        app.config.PROXIES_COUNT = count


def client_address(request: Request) -> str:
    """The client's address: from the trusted proxies' X-Forwarded-For when configured, else the socket's."""
    return request.remote_addr or request.ip or "unknown"


def socket_client_address(environ: dict[str, Any]) -> str:
    """The same for a socket.io connection (engine.io's Sanic driver keeps the request in the environ)."""
    request = environ.get("sanic.request")
    return client_address(request) if request is not None else "unknown"
