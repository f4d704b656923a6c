"""The rate limiter on a clock the tests move by hand."""

from __future__ import annotations

import pytest

from channels.rate_limit import Limit, RateLimiter, VisitorLimits, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_burst_goes_through_then_one_message_per_refilled_token(clock: Clock) -> None:
    limiter = RateLimiter(Limit(burst=3, per_minute=30), clock)  # a token every 2 seconds
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(2.0)
    clock.advance(1.0)
    assert limiter.take("a") == pytest.approx(1.0), "a refused message does not reset the wait"
    clock.advance(1.0)
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0


def test_a_person_typing_every_two_seconds_is_never_refused(clock: Clock) -> None:
    limiter = RateLimiter(Limit(burst=10, per_minute=30), clock)
    for _ in range(500):
        assert limiter.allows("visitor")
        clock.advance(2.0)


def test_keys_are_independent(clock: Clock) -> None:
    limiter = RateLimiter(Limit(burst=1, per_minute=1), clock)
    assert limiter.allows("a")
    assert not limiter.allows("a")
    assert limiter.allows("b")


def test_the_bucket_never_holds_more_than_the_burst(clock: Clock) -> None:
    limiter = RateLimiter(Limit(burst=2, per_minute=60), clock)
    limiter.take("a")
    clock.advance(3600)
    assert [limiter.allows("a") for _ in range(3)] == [True, True, False]


def test_idle_keys_are_forgotten_once_refilled(clock: Clock) -> None:
    limiter = RateLimiter(Limit(burst=2, per_minute=60), clock)
    for n in range(1000):
        limiter.take(f"client-{n}")
    assert len(limiter) == 1000
    clock.advance(2.0)  # every bucket is full again
    limiter.take("someone")
    assert len(limiter) == 1


def test_memory_is_bounded_whatever_the_keys(clock: Clock) -> None:
    limiter = RateLimiter(Limit(burst=1, per_minute=1), clock, max_keys=100)
    for n in range(10_000):
        limiter.take(f"spoofed-{n}")
    assert len(limiter) == 100
    assert not limiter.allows("spoofed-9999"), "the most recent keys are the ones kept"


def test_visitor_limits_key_conversations_by_channel(clock: Clock) -> None:
    limits = VisitorLimits(RateLimiter(Limit(10, 60), clock), RateLimiter(Limit(1, 1), clock))
    assert limits.wait_for_conversation("whatsapp", "447400123456") == 0
    assert limits.wait_for_conversation("rest", "447400123456") == 0, "a REST sender can't use up a WhatsApp visitor's"
    assert limits.wait_for_conversation("whatsapp", "447400123456") > 0


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    default = Limit(burst=10, per_minute=30)
    assert Limit.from_environment("conversation", default) == default
    monkeypatch.setenv("RATE_LIMIT_CONVERSATION_BURST", "4")
    monkeypatch.setenv("RATE_LIMIT_CONVERSATION_PER_MINUTE", "12.5")
    assert Limit.from_environment("conversation", default) == Limit(4, 12.5)
    monkeypatch.setenv("RATE_LIMIT_CONVERSATION_BURST", "0")
    with pytest.raises(ValueError, match="RATE_LIMIT_CONVERSATION_BURST"):
        Limit.from_environment("conversation", default)


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert [retry_after(w) for w in (0.001, 0.999, 1.0, 1.2, 59.5)] == [1, 1, 1, 2, 60]
