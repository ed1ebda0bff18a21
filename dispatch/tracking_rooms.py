"""Per process: one room per watched order, fanning its Redis channel out to the sockets here.

A room parses each frame once and hands it to its sockets' feeds. It also remembers the order's
last position so that one sweeper per process can notice 60 s without a ping and publish the
single `stale` frame (through Redis, numbered like any frame; the Lua script's expected-seq check
makes it one frame however many processes watch the order).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
import weakref
from datetime import datetime
from typing import Any

import structlog
from redis.exceptions import RedisError

from core import clock
from core.pubsub import Hub, get_hub
from core.redis import new_async_redis
from dispatch import after_commit, tracking
from dispatch.tracking_feed import VISIBLE_STATUSES, Feed

SWEEP_S = 1.0

log = structlog.get_logger(__name__)


class OrderRoom:
    def __init__(self, order_id: uuid.UUID) -> None:
        self.order_id = order_id
        self.channel = after_commit.ORDER_CHANNEL.format(order_id=order_id)
        self.feeds: set[Feed] = set()
        self.seq = 0
        self.in_window = False
        self.last_position: dict[str, Any] | None = None
        self.stale_sent = False

    def deliver(self, channel: str, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            log.warning("tracking_bad_frame", channel=channel)
            return
        self._track(frame)
        for feed in tuple(self.feeds):
            feed.push(frame, data)

    def resync(self) -> None:
        for feed in tuple(self.feeds):
            feed.request_resync()

    def seed(self, snapshot: dict[str, Any]) -> None:
        """Learn the order's state from a snapshot (the room may have heard nothing yet)."""
        if int(snapshot["seq"]) < self.seq:
            return
        self.seq = int(snapshot["seq"])
        self.in_window = snapshot["status"] in VISIBLE_STATUSES
        if self.in_window and snapshot.get("ts") is not None:
            self.last_position = {**snapshot, "type": "position"}
            for key in ("promised_from", "promised_to", "read_only"):
                self.last_position.pop(key, None)
            self.stale_sent = bool(snapshot.get("stale"))

    def _track(self, frame: dict[str, Any]) -> None:
        seq = frame.get("seq")
        if isinstance(seq, int):
            self.seq = max(self.seq, seq)
        kind = frame.get("type")
        if kind == "status":
            self.in_window = frame.get("status") in VISIBLE_STATUSES
        elif kind == "position":
            self.in_window = True
            self.last_position = frame
            self.stale_sent = bool(frame.get("stale"))

    def needs_stale(self, now: datetime) -> bool:
        if not self.in_window or self.stale_sent or self.last_position is None:
            return False
        return tracking.is_stale(datetime.fromisoformat(str(self.last_position["ts"])), now=now)


class Rooms:
    """The rooms of one event loop (one API process), subscribed through its one hub."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._rooms: dict[uuid.UUID, OrderRoom] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def join(self, order_id: uuid.UUID, feed: Feed) -> OrderRoom:
        room = self._rooms.get(order_id)
        if room is None:
            room = self._rooms[order_id] = OrderRoom(order_id)
        room.feeds.add(feed)
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="o2o-tracking-stale")
        await self._hub.subscribe(room.channel, room)
        return room

    async def leave(self, order_id: uuid.UUID, feed: Feed) -> None:
        room = self._rooms.get(order_id)
        if room is None:
            return
        room.feeds.discard(feed)
        if not room.feeds:
            del self._rooms[order_id]
            await self._hub.unsubscribe(room.channel, room)

    async def _sweep(self) -> None:
        client = new_async_redis()
        script = client.register_script(after_commit.SEQUENCED_PUBLISH_LUA)
        try:
            while self._rooms:
                await asyncio.sleep(SWEEP_S)
                now = clock.now()
                for room in [r for r in self._rooms.values() if r.needs_stale(now)]:
                    room.stale_sent = True  # one attempt per silence, whatever the outcome
                    with contextlib.suppress(RedisError, OSError):
                        await _publish_stale(script, room)
        finally:
            await client.aclose()


async def _publish_stale(script: Any, room: OrderRoom) -> None:
    assert room.last_position is not None
    key = {"order_id": room.order_id}
    body = json.dumps(tracking.stale_frame(room.last_position), separators=(",", ":"), default=str)
    await script(
        keys=[after_commit.ORDER_SEQ_KEY.format(**key), after_commit.ORDER_LAST_KEY.format(**key)],
        args=[room.channel, body, after_commit.LAST_FRAME_TTL_S, str(room.seq), after_commit.SEQ_TTL_S],
    )


_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Rooms] = weakref.WeakKeyDictionary()


def get_rooms() -> Rooms:
    loop = asyncio.get_running_loop()
    rooms = _per_loop.get(loop)
    if rooms is None:
        rooms = _per_loop[loop] = Rooms(get_hub())
    return rooms
