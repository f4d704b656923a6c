"""The Redis lock store on the local Redis (127.0.0.1:6379): one conversation's turns run one at
a time and in arrival order across processes, a dead holder is passed over within its heartbeat,
and an unreachable Redis refuses the turn instead of letting it run unlocked."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
import redis
from rasa.core.lock_store import LockError
from rasa.utils.endpoints import EndpointConfig

from channels.lock_store import OrderedRedisLockStore
from tools.servers import PROJECT_ROOT, free_port

T = TypeVar("T")
REDIS_DB = 15  # the tests' own database number, away from a running cluster's


def lock_store(prefix: str, port: int = 6379, heartbeat_seconds: float = 10) -> OrderedRedisLockStore:
    config = EndpointConfig("127.0.0.1", port=port, db=REDIS_DB, key_prefix=prefix, heartbeat_seconds=heartbeat_seconds)
    return OrderedRedisLockStore(config)


async def take_turns(prefix: str, conversation: str, turns: int, name: str) -> None:
    """Each turn reads a shared counter, pauses, and writes it back plus one, logging its entry
    and exit: without mutual exclusion, turns overlap in the log and increments are lost."""
    store = lock_store(prefix)
    shared = store.redis

    async def turn(number: int) -> None:
        async with store.lock(conversation):
            await shared.rpush(f"{prefix}:log", f"enter {name}-{number}")
            value = int(await shared.get(f"{prefix}:counter") or 0)
            await asyncio.sleep(0.002)
            await shared.set(f"{prefix}:counter", value + 1)
            await shared.rpush(f"{prefix}:log", f"exit {name}-{number}")

    await asyncio.gather(*(turn(number) for number in range(turns)))


def contender(prefix: str, conversation: str, turns: int, name: str) -> subprocess.Popen:
    """Another process (as another Rasa server would be) contending for the same conversation."""
    code = (
        "import asyncio, sys; from tests.unit.test_lock_store import take_turns; "
        "asyncio.run(take_turns(*sys.argv[1:3], int(sys.argv[3]), sys.argv[4]))"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, prefix, conversation, str(turns), name], env=env)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: Playwright's sync API (the browser tests) keeps an
    event loop running in the main thread for the rest of the session."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@pytest.fixture
def prefix() -> str:
    name = f"test{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis(port=6379, db=REDIS_DB)
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)


def test_turns_of_one_conversation_never_overlap_across_processes_and_none_is_lost(prefix: str) -> None:
    processes = [contender(prefix, "visitor-1", 25, name) for name in ("a", "b", "c")]
    for process in processes:
        assert process.wait(timeout=60) == 0
    client = redis.Redis(port=6379, db=REDIS_DB, decode_responses=True)
    log = client.lrange(f"{prefix}:log", 0, -1)
    assert int(client.get(f"{prefix}:counter")) == 75, "an increment was lost: two turns ran at once"
    entries, exits = log[0::2], log[1::2]
    assert all(line.startswith("enter") for line in entries) and all(line.startswith("exit") for line in exits)
    assert [line.split()[1] for line in entries] == [line.split()[1] for line in exits], "a turn began inside another"


def test_turns_run_in_the_order_the_messages_arrived(prefix: str) -> None:
    async def scenario() -> list[int]:
        store, order = lock_store(prefix), []

        async def turn(number: int) -> None:
            async with store.lock("visitor-2"):
                order.append(number)
                await asyncio.sleep(0.05)  # the queue grows: each waits behind all earlier ones

        tasks = []
        for number in range(8):
            tasks.append(asyncio.create_task(turn(number)))
            await asyncio.sleep(0.02)  # message `number` reaches the lock store before `number + 1`
        await asyncio.gather(*tasks)
        return order

    assert run(scenario()) == list(range(8))


def test_other_conversations_do_not_wait(prefix: str) -> None:
    async def scenario() -> float:
        store = lock_store(prefix)
        async with store.lock("busy-visitor"):
            started = time.monotonic()
            async with store.lock("other-visitor"):
                return time.monotonic() - started

    assert run(scenario()) < 0.5


def test_a_killed_holder_is_passed_over_within_its_heartbeat(prefix: str) -> None:
    code = (
        "import asyncio, sys, time\n"
        "from tests.unit.test_lock_store import lock_store\n"
        "async def hold():\n"
        "    async with lock_store(sys.argv[1], heartbeat_seconds=1).lock('visitor-3'):\n"
        "        print('holding', flush=True); await asyncio.sleep(120)\n"
        "asyncio.run(hold())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    holder = subprocess.Popen([sys.executable, "-c", code, prefix], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"

        async def wait_behind_holder(timeout: float) -> float:
            started = time.monotonic()
            async with lock_store(prefix, heartbeat_seconds=1).lock("visitor-3", lock_lifetime=timeout):
                return time.monotonic() - started

        with pytest.raises(LockError):  # a live holder keeps its lock past a waiter's patience
            run(wait_behind_holder(timeout=2.5))
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        assert run(wait_behind_holder(timeout=30)) < 3, "a dead server's lock must not stall the visitor"
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_an_unreachable_redis_refuses_the_turn(prefix: str) -> None:
    async def scenario() -> None:
        async with lock_store(prefix, port=free_port()).lock("visitor-4"):
            pytest.fail("the turn ran without a lock")

    started = time.monotonic()
    with pytest.raises(LockError, match="Redis"):
        run(scenario())
    assert time.monotonic() - started < 5
