"""A Redis ticket lock that keeps one conversation's turns in order across several Rasa servers.

Rasa's `RedisLockStore` reads the lock as JSON, adds a ticket and writes it back: two servers
doing that at once both succeed, one ticket is lost, and both process the conversation
together (the tracker store then keeps only one turn's events). It also blocks the event
loop on every Redis call, and a server killed while holding a lock holds it for the full
lifetime (60 s).

Here every step is one atomic Redis script, over asyncio:

    issue    INCR the conversation's counter → ticket t, and mark t alive (a key with a TTL).
    acquire  Walk `serving` forward over tickets that are no longer alive (finished, or their
             server died); t may go when it is the first live ticket. Polled every few ms.
    hold     A heartbeat keeps t alive while the turn runs, so a live server keeps its lock
             however long the turn, and a dead one loses it within its heartbeat.
    release  Delete t's key; the next live ticket goes.

Tickets are served in the order Redis issued them, so messages are processed in arrival
order. When Redis cannot be reached nothing is processed (fail closed): the lock raises
`LockError`, and the reply guard apologises.

Use it in endpoints.yml (the keys are those of Rasa's redis lock store):

    lock_store:
      type: channels.lock_store.OrderedRedisLockStore
      url: 127.0.0.1
      port: 6379
      db: 1
      heartbeat_seconds: 10   # optional
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from redis import asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from channels.redact import conversation_ref

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0  # a holder or waiter not heard from for this long is dead
IDLE_TTL_MS = 3_600_000  # a conversation's counters vanish an hour after its last turn
POLL_SECONDS = 0.005
MAX_POLL_SECONDS = 0.05

ISSUE = """
local ticket = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', ARGV[1] .. ticket, '1', 'PX', ARGV[2])
return ticket
"""

# 1: this ticket's turn; 0: a live ticket is ahead; -1: this ticket is dead (waited too long).
ACQUIRE = """
local ticket = tonumber(ARGV[2])
if redis.call('PEXPIRE', ARGV[1] .. ticket, ARGV[3]) == 0 then return -1 end
local serving = tonumber(redis.call('GET', KEYS[1]) or '1')
while serving < ticket do
  if redis.call('EXISTS', ARGV[1] .. serving) == 1 then break end
  serving = serving + 1
end
redis.call('SET', KEYS[1], serving, 'PX', ARGV[4])
if serving < ticket then return 0 end
return 1
"""


class OrderedRedisLockStore(LockStore):
    """Rasa's lock store interface (`lock()`), with tickets issued and served atomically."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        settings = endpoint_config.kwargs
        self.redis = redis.Redis(
            host=endpoint_config.url or "127.0.0.1",
            port=int(settings.get("port", 6379)),
            db=int(settings.get("db", 1)),
            username=settings.get("username"),
            password=settings.get("password"),
            ssl=bool(settings.get("use_ssl", False)),
            socket_timeout=float(settings.get("socket_timeout", 2)),
            socket_connect_timeout=float(settings.get("socket_timeout", 2)),
            # After Redis restarts, every pooled connection is dead: each is replaced on first use
            # instead of failing that turn. While Redis is down, three quick tries, then fail closed.
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 3),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        self.prefix = f"{settings.get('key_prefix', 'clinic')}:lock:"
        self.heartbeat_ms = int(float(settings.get("heartbeat_seconds", HEARTBEAT_SECONDS)) * 1000)
        self._issue = self.redis.register_script(ISSUE)
        self._acquire = self.redis.register_script(ACQUIRE)
        super().__init__()

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = POLL_SECONDS,
    ) -> AsyncIterator[TicketLock]:
        """Waits up to `lock_lifetime` seconds for this conversation's earlier turns, then holds
        the lock (kept alive by a heartbeat) until the block ends. Waiting polls every few
        milliseconds whatever `wait_time_in_seconds` says (Rasa's 1 s would add a second)."""
        keys = self._keys(conversation_id)
        try:
            ticket = int(await self._issue(keys=[keys.counter], args=[keys.ticket, self.heartbeat_ms, IDLE_TTL_MS]))
            await self._wait_for_turn(conversation_id, keys, ticket, time.monotonic() + lock_lifetime)
        except RedisError as error:
            raise LockError(f"The lock store (Redis) cannot be reached: {error}") from error
        heartbeat = asyncio.create_task(self._keep_alive(keys.ticket + str(ticket), conversation_id))
        try:
            yield TicketLock(conversation_id)
        finally:
            heartbeat.cancel()
            await self._release(keys.ticket + str(ticket))

    async def _wait_for_turn(self, conversation_id: str, keys: LockKeys, ticket: int, deadline: float) -> None:
        pause = POLL_SECONDS
        while True:
            turn = await self._acquire(keys=[keys.serving], args=[keys.ticket, ticket, self.heartbeat_ms, IDLE_TTL_MS])
            if turn == 1:
                return
            if turn == -1 or time.monotonic() > deadline:
                await self._release(keys.ticket + str(ticket))
                raise LockError(f"Timed out waiting for the lock of {conversation_ref(conversation_id)}.")
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_POLL_SECONDS)

    async def _keep_alive(self, ticket_key: str, conversation_id: str) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_ms / 4000)
            try:
                if not await self.redis.pexpire(ticket_key, self.heartbeat_ms):
                    logger.error("Lost the lock of %s: its turn ran too long", conversation_ref(conversation_id))
                    return
            except RedisError as error:  # the turn finishes; the next one fails closed if Redis stays down
                logger.warning("Could not renew the lock of %s: %s", conversation_ref(conversation_id), error)

    async def _release(self, ticket_key: str) -> None:
        try:
            await self.redis.delete(ticket_key)
        except RedisError as error:  # the ticket expires by itself within its heartbeat
            logger.warning("Could not release a conversation lock: %s", error)

    def _keys(self, conversation_id: str) -> LockKeys:
        base = f"{self.prefix}{conversation_id}"
        return LockKeys(counter=f"{base}:issued", serving=f"{base}:serving", ticket=f"{base}:t:")


@dataclass(frozen=True)
class LockKeys:
    """One conversation's keys: the last ticket issued, the ticket served, and each live ticket."""

    counter: str
    serving: str
    ticket: str  # + the ticket number
