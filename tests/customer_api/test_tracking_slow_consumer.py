"""A watcher that stops reading is cut off (bounded queue), its subscription is released, and a
second watcher of the same order keeps getting every frame (real uvicorn, real Redis)."""

from __future__ import annotations

import asyncio
import json
import secrets

import websockets

from core.db import session_scope
from core.redis import get_redis
from dispatch import after_commit
from tests import tracking_world
from tests.customer_api.test_tracking_processes import _open, _until
from tests.waiting import wait_for

FLOOD = 1_500
PAD_BYTES = 8_000  # as 16,000 hex digits (deflate cannot shrink them much): ~24 MB in all
BATCH = 10  # per 20 ms: a pace a reading client follows, which a stuck one cannot absorb


def test_a_client_that_stops_reading_is_cut_off_and_others_are_unaffected(live_server) -> None:
    with session_scope() as s:
        world = tracking_world.build(s, customers=1)
    order_id = world.orders[0]
    channel = after_commit.ORDER_CHANNEL.format(order_id=order_id)
    first = {"type": "auth", "token": world.tokens[0]}
    base = 10**13  # above any seq the order has had

    async def scenario() -> None:
        stuck = await websockets.connect(
            live_server.replace("http://", "ws://") + f"/customer/orders/{order_id}/track",
            max_queue=1,  # the client library stops reading from the socket too
        )
        await stuck.send(json.dumps(first))
        reader = await _open(live_server, order_id, first)
        await asyncio.wait_for(reader.recv(), 10)
        await asyncio.sleep(0.5)  # `stuck` has its snapshot queued and reads nothing more

        received = 0

        async def read_all() -> None:
            nonlocal received
            got = await _until(reader, lambda f: f["seq"] == base + FLOOD - 1, within=60)
            received = len(got)

        reading = asyncio.create_task(read_all())
        for start in range(0, FLOOD, BATCH):
            pipe = get_redis().pipeline(transaction=False)
            for i in range(start, start + BATCH):
                frame = {
                    "seq": base + i,
                    "type": "position",
                    "order_id": str(order_id),
                    "lat": 52.52,
                    "pad": secrets.token_hex(PAD_BYTES),
                }
                pipe.publish(channel, json.dumps(frame))
            pipe.execute()
            await asyncio.sleep(0.02)
        await reading
        assert received == FLOOD  # the reading watcher got everything, to the last frame
        await reader.close()
        # `stuck` was cut off: with the reader gone too, the process holds no subscription.
        assert await asyncio.to_thread(wait_for, lambda: get_redis().pubsub_numsub(channel) == [(channel, 0)], 10)
        stuck.transport.abort()

    asyncio.run(scenario())
