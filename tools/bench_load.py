"""Closed-loop REST load for `make bench` (tools/bench.py): visitors, their messages, the numbers.

A visitor is a person on the web chat: it sends a message to the REST channel, waits for the
reply, sends the next. Each one has its own conversation (sender id) and its own keep-alive
connection, so N visitors are N conversations in flight at once, never more. A visitor's
conversation is a short visit (a greeting, a few questions, thanks) and then a new one begins
under a new sender id: real conversations are short, and one endless conversation would make
every turn reload an ever longer tracker, measuring the test rather than the assistant.

Cookies are not kept (REST clients are servers, not browsers), so behind HAProxy every message
is balanced on its own, and consecutive messages of one conversation reach different Rasa
servers: the cluster's shared tracker store and lock store are on the path of every turn.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count

import aiohttp

REQUEST_TIMEOUT_SECONDS = 30.0
# A person whose message failed sends again a moment later; and a failure that comes back at once
# (a refused connection, HAProxy's 503 with no server up) must not turn a visitor into a busy loop.
PAUSE_AFTER_FAILURE_SECONDS = 1.0

# The clinic's visitors, in our own words (not the training examples): the questions people ask
# before booking. Every message here gets an answer, so an empty reply is an error.
CLINIC_GREETINGS = ["hello!", "hi, quick question", "hiya", "hello, anyone there?", "hi hi"]
CLINIC_QUESTIONS = {
    "price": ["what would a full face session set me back", "roughly how much do you charge", "is it expensive?"],
    "downtime": [
        "will I need time off work afterwards",
        "how many days of redness should I expect",
        "could I go out for dinner the day after",
    ],
    "pain": ["is the procedure uncomfortable", "will it sting a lot", "do you numb the skin first"],
    "sessions": [
        "how many appointments do most people need",
        "is a single treatment usually enough",
        "how far apart are the sessions",
    ],
    "conditions": [
        "can the laser improve acne scarring",
        "would it help with fine lines round my eyes",
        "what skin problems does it fix",
    ],
    "results": ["when would I notice a difference", "will the improvement last for years"],
    "aftercare": ["what do I put on my face after the treatment", "can I exercise after my session"],
}
CLINIC_CLOSINGS = ["thanks so much", "great, thank you", "ok thanks, bye", "that's helpful, bye"]
QUESTIONS_PER_VISIT = 3

# Rasa's moodbot (`rasa init`), as its own stories go: greet, sad, cheered up, happy, bye.
MOODBOT_VISIT = ["hi", "I'm sad", "yes", "great", "bye"]


def clinic_visits(seed: int) -> Iterator[list[str]]:
    """Visits of one clinic visitor: mostly a greeting, three questions on different topics, thanks."""
    rng = random.Random(seed)
    while True:
        topics = rng.sample(sorted(CLINIC_QUESTIONS), QUESTIONS_PER_VISIT)
        greeting = [rng.choice(CLINIC_GREETINGS)] if rng.random() < 0.8 else []
        yield [*greeting, *(rng.choice(CLINIC_QUESTIONS[topic]) for topic in topics), rng.choice(CLINIC_CLOSINGS)]


def moodbot_visits(_seed: int) -> Iterator[list[str]]:
    """Every moodbot visit is the same: the bot has nothing else to talk about."""
    while True:
        yield list(MOODBOT_VISIT)


Visits = Callable[[int], Iterator[list[str]]]


@dataclass(frozen=True)
class Sample:
    """One message: when it was sent and answered (monotonic seconds), and what went wrong."""

    sent: float
    answered: float
    error: str | None  # None: a 200 with at least one bot message

    @property
    def latency_ms(self) -> float:
        return (self.answered - self.sent) * 1000.0


@dataclass
class LevelResult:
    """One load level: `visitors` closed-loop visitors for `seconds` after a warm-up."""

    visitors: int
    seconds: float
    messages: int  # answered inside the measured window
    messages_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    error_kinds: dict[str, int] = field(default_factory=dict)
    sent_in_total: int = 0  # with warm-up: what the servers handled during the level


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (no interpolation: a p99 is a latency some visitor really had)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def summarise(samples: list[Sample], visitors: int, window: tuple[float, float]) -> LevelResult:
    """Throughput counts answers inside the window; latency and errors count messages sent in it."""
    start, end = window
    sent_in_window = [sample for sample in samples if sample.sent >= start]
    answered = [sample for sample in samples if sample.error is None and start <= sample.answered <= end]
    latencies = [sample.latency_ms for sample in sent_in_window if sample.error is None]
    errors = Counter(sample.error for sample in sent_in_window if sample.error is not None)
    seconds = end - start
    return LevelResult(
        visitors=visitors,
        seconds=round(seconds, 1),
        messages=len(answered),
        messages_per_second=len(answered) / seconds,
        p50_ms=percentile(latencies, 0.50),
        p95_ms=percentile(latencies, 0.95),
        p99_ms=percentile(latencies, 0.99),
        errors=sum(errors.values()),
        error_kinds=dict(errors),
        sent_in_total=len(samples),
    )


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> Sample:
    """One message and its reply; any failure becomes the sample's error, never an exception."""
    sent = time.monotonic()
    error = None
    try:
        async with session.post(url, json={"sender": sender, "message": text}) as reply:
            body = await reply.read()
            if reply.status != 200:
                error = f"HTTP {reply.status}"
            elif not json.loads(body):
                error = "empty reply"
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as failure:
        error = type(failure).__name__
    return Sample(sent, time.monotonic(), error)


async def visitor(url: str, name: str, visits: Iterator[list[str]], deadline: float, samples: list[Sample]) -> None:
    """Sends visit after visit, each message after the last one's reply, until the deadline."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    connector = aiohttp.TCPConnector(limit=1)
    no_cookies = aiohttp.DummyCookieJar()
    async with aiohttp.ClientSession(timeout=timeout, connector=connector, cookie_jar=no_cookies) as session:
        for number in count():
            for text in next(visits):
                if time.monotonic() >= deadline:
                    return
                sample = await send(session, url, f"{name}-{number}", text)
                samples.append(sample)
                if sample.error is not None:
                    await asyncio.sleep(PAUSE_AFTER_FAILURE_SECONDS)


@dataclass
class Level:
    """A level in progress: `measuring` says when the warm-up ends, for a profiler to start."""

    visitors: int
    warmup: float
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    started: float = 0.0

    @property
    def window(self) -> tuple[float, float]:
        return self.started + self.warmup, self.started + self.warmup + self.seconds


async def run_level(level: Level, url: str, visits: Visits, name: str) -> LevelResult:
    """All visitors at once for warm-up + seconds; returns once every last reply is in."""
    level.started = time.monotonic()
    deadline = level.window[1]
    await asyncio.gather(
        *(
            visitor(url, f"{name}-{level.visitors}v-{number}", visits(number), deadline, level.samples)
            for number in range(level.visitors)
        )
    )
    return summarise(level.samples, level.visitors, level.window)


def answered_between(samples: list[Sample], start: float, end: float) -> int:
    """Messages answered in a span (e.g. while a profiler ran), to turn its samples into ms per message."""
    return sum(1 for sample in samples if sample.error is None and start <= sample.answered <= end)
