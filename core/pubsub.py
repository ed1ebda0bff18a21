"""One Redis subscription connection per API process, shared by every socket it serves.

A WebSocket that wants a channel registers a `Listener`; the hub `SUBSCRIBE`s the channel when
its first listener arrives and `UNSUBSCRIBE`s when the last one leaves, so a process only hears
the channels of its own sockets (never `PSUBSCRIBE`: a wildcard would make every process parse
every message of the city).

Redis pub/sub is at-most-once and the connection can drop. The hub notices (the read fails),
reconnects every `RETRY_S`, subscribes everything again and calls `resync()` on every listener,
whose job is to send its socket a fresh snapshot built from stored state. redis-py's own silent
reconnect is switched off (no retries) precisely so that a drop is never hidden from us.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis
import structlog
from redis.asyncio.client import PubSub
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from core.settings import get_settings

RETRY_S = 0.25
READ_TIMEOUT_S = 1.0
CONFIRM_TIMEOUT_S = 3.0

log = structlog.get_logger(__name__)


class Listener(Protocol):
    def deliver(self, channel: str, data: str) -> None:
        """A message on one of the listener's channels. Must not block (runs in the reader)."""
        ...

    def resync(self) -> None:
        """The subscription was re-established after a drop: messages may have been lost."""
        ...


class Hub:
    """Channel → listeners for one event loop, over one subscription connection."""

    def __init__(self, url: str, *, client_factory: Callable[[str], aioredis.Redis] | None = None) -> None:
        self._url = url
        self._factory = client_factory or _client
        self._listeners: dict[str, set[Listener]] = {}
        self._confirmed: dict[str, asyncio.Event] = {}
        self._pubsub: PubSub | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._listeners)

    async def subscribe(self, channel: str, listener: Listener) -> None:
        """Add `listener`; returns once Redis confirmed the channel (so nothing published after
        this returns can be missed, short of a drop, which `resync` repairs)."""
        self._ensure_running()
        listeners = self._listeners.setdefault(channel, set())
        listeners.add(listener)
        confirmed = self._confirmed.setdefault(channel, asyncio.Event())
        if len(listeners) == 1 and self._pubsub is not None and self._connected.is_set():
            # On failure the reader notices the drop too and resubscribes every channel.
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.subscribe(channel)
        try:
            await asyncio.wait_for(confirmed.wait(), CONFIRM_TIMEOUT_S)
        except TimeoutError:
            log.warning("pubsub_subscribe_unconfirmed", channel=channel)

    async def unsubscribe(self, channel: str, listener: Listener) -> None:
        listeners = self._listeners.get(channel)
        if listeners is None:
            return
        listeners.discard(listener)
        if listeners:
            return
        del self._listeners[channel]
        self._confirmed.pop(channel, None)
        if self._pubsub is not None and self._connected.is_set():
            # On failure: after the reconnect only live channels are subscribed anyway.
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(channel)

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="o2o-pubsub")

    async def _run(self) -> None:
        first = True
        while True:
            try:
                await self._session(resync=not first)
            except (RedisError, OSError) as exc:
                log.warning("pubsub_connection_lost", error=repr(exc), channels=len(self._listeners))
            first = False
            self._connected.clear()
            for event in self._confirmed.values():
                event.clear()
            await asyncio.sleep(RETRY_S)

    async def _session(self, *, resync: bool) -> None:
        client = self._factory(self._url)
        pubsub = client.pubsub()
        try:
            await pubsub.connect()  # type: ignore[no-untyped-call]
            # Connected first, then the channels known now: a socket arriving during the SUBSCRIBE
            # below sends its own (no await in between, so no channel falls through the gap).
            self._pubsub = pubsub
            self._connected.set()
            if self._listeners:
                await pubsub.subscribe(*self._listeners)
            if resync:
                self.reconnects += 1
                self._resync_all()
            await self._read(pubsub)
        finally:
            self._pubsub = None
            await _quietly_close(pubsub, client)

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(timeout=READ_TIMEOUT_S)
            if message is None:
                if not pubsub.subscribed:
                    await pubsub.ping()  # an idle connection still proves it is alive
                continue
            kind, channel = message["type"], message["channel"]
            if kind == "subscribe":
                event = self._confirmed.get(channel)
                if event is not None:
                    event.set()
            elif kind == "message":
                for listener in tuple(self._listeners.get(channel, ())):
                    listener.deliver(channel, message["data"])

    def _resync_all(self) -> None:
        for listeners in tuple(self._listeners.values()):
            for listener in tuple(listeners):
                listener.resync()


def _client(url: str) -> aioredis.Redis:
    return aioredis.Redis.from_url(url, decode_responses=True, retry=Retry(NoBackoff(), 0))


async def _quietly_close(pubsub: PubSub, client: aioredis.Redis) -> None:
    try:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.aclose()
    except (RedisError, OSError):
        pass


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """The hub of the running event loop (one per API process; tests may run several loops)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(get_settings().effective_redis_url())
    return hub
