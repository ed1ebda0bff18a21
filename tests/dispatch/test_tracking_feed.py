"""Per-socket feeds and the process's one subscription connection (real Redis)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import redis.asyncio as aioredis

from core.redis import get_redis
from core.settings import get_settings
from dispatch.tracking_feed import RESYNC, Feed, SlowConsumer


def _snapshot(seq: int, status: str = "picked_up") -> dict[str, object]:
    return {"seq": seq, "status": status}


def _frame(seq: int, kind: str = "position", **extra: object) -> tuple[dict[str, object], str]:
    frame = {"seq": seq, "type": kind, **extra}
    return frame, json.dumps(frame)


def test_feed_drops_repeats_and_positions_outside_the_window() -> None:
    async def scenario() -> None:
        feed = Feed()
        feed.apply_snapshot(_snapshot(5))
        for frame, text in [_frame(4), _frame(5), _frame(6), _frame(7, "status", status="delivered"), _frame(8)]:
            feed.push(frame, text)
        got = [json.loads(str(await feed.next()))["seq"] for _ in range(2)]
        assert got == [6, 7]
        feed.request_resync()
        assert await feed.next() is RESYNC

    asyncio.run(scenario())


def test_a_full_queue_cuts_the_socket_off_and_frees_it() -> None:
    async def scenario() -> None:
        feed = Feed(max_queued=3)
        feed.apply_snapshot(_snapshot(0))
        for seq in range(1, 5):
            feed.push(*_frame(seq))
        assert feed.cut_off.is_set()
        with pytest.raises(SlowConsumer):
            await feed.next()

    asyncio.run(scenario())


def test_one_connection_subscribes_only_watched_channels_and_leaves_with_the_last_socket(database) -> None:
    from core.pubsub import Hub

    class Listener:
        def __init__(self) -> None:
            self.got: list[str] = []

        def deliver(self, channel: str, data: str) -> None:
            self.got.append(data)

        def resync(self) -> None:
            pass

    channel = f"o2o:test:{uuid.uuid4()}"
    redis = get_redis()

    # Named, so that its subscriptions can be told apart from other clients' (PUBSUB NUMPAT is
    # server-wide, and Celery's workers in parallel tests subscribe to patterns).
    name = f"hub-test-{uuid.uuid4().hex[:8]}"

    def named_client(url: str) -> aioredis.Redis:
        return aioredis.Redis.from_url(url, decode_responses=True, client_name=name)

    def hub_connections() -> list[dict[str, str]]:
        return [c for c in redis.client_list() if c.get("name") == name]

    async def scenario() -> None:
        hub = Hub(get_settings().effective_redis_url(), client_factory=named_client)
        one, two = Listener(), Listener()
        await hub.subscribe(channel, one)
        await hub.subscribe(channel, two)
        assert redis.pubsub_numsub(channel) == [(channel, 1)]  # one connection for both sockets
        # That connection holds exactly this channel, and no pattern.
        assert [(c["sub"], c["psub"]) for c in hub_connections() if c["sub"] != "0"] == [("1", "0")]
        redis.publish(channel, "hello")
        for _ in range(50):
            if one.got and two.got:
                break
            await asyncio.sleep(0.05)
        assert (one.got, two.got) == (["hello"], ["hello"])
        await hub.unsubscribe(channel, one)
        assert redis.pubsub_numsub(channel) == [(channel, 1)]
        await hub.unsubscribe(channel, two)
        for _ in range(50):
            if redis.pubsub_numsub(channel) == [(channel, 0)]:
                break
            await asyncio.sleep(0.05)
        assert redis.pubsub_numsub(channel) == [(channel, 0)]

    asyncio.run(scenario())
