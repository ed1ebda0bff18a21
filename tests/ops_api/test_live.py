"""`WS /ops/live` on a real uvicorn: dispatchers get a snapshot of the zones they choose and then
courier positions from those zones only, at most one frame per courier per second."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from core.auth.models import Role
from core.db import session_scope
from core.redis import get_redis
from dispatch.after_commit import ZONE_CHANNEL
from tests import tracking_world
from tests.customer_api.test_tracking_processes import _frames, _until
from tests.factories import create_user, token_for

pytestmark = pytest.mark.usefixtures("committed_db")


def _url(live_server: str) -> str:
    return live_server.replace("http://", "ws://") + "/ops/live"


@pytest.fixture
def world(live_server) -> dict[str, Any]:
    with session_scope() as s:
        delivery = tracking_world.build(s, customers=2)
        dispatcher = create_user(s, role=Role.dispatcher)
        return {
            "zone": delivery.fleet.zone.id,
            "courier": delivery.courier.id,
            "orders": delivery.orders,
            "token": token_for(dispatcher),
            "customer_token": delivery.tokens[0],
        }


def _courier_frame(zone: uuid.UUID, courier: uuid.UUID, i: int) -> str:
    body = {"type": "courier", "zone_id": str(zone), "courier_id": str(courier), "lat": 52.5 + i / 1000, "lon": 13.4}
    return json.dumps(body)


async def _connect(live_server: str, token: str, zones: list[str]) -> Any:
    ws = await websockets.connect(_url(live_server))
    await ws.send(json.dumps({"type": "auth", "token": token}))
    await ws.send(json.dumps({"type": "zones", "zone_ids": zones}))
    return ws


def test_snapshot_of_the_chosen_zone(live_server, world) -> None:
    async def scenario() -> None:
        ws = await _connect(live_server, world["token"], [str(world["zone"])])
        snap = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert snap["type"] == "snapshot"
        (zone,) = snap["zones"]
        assert zone["id"] == str(world["zone"])
        assert [c["id"] for c in zone["couriers"]] == [str(world["courier"])]
        assert {o["id"] for o in zone["orders"]} == {str(o) for o in world["orders"]}
        (route,) = zone["routes"]
        assert [s["kind"] for s in route["stops"]] == ["dropoff", "dropoff"]  # pickups are done
        await ws.close()

    asyncio.run(scenario())


def test_at_most_one_frame_per_courier_per_second_and_the_latest_arrives(live_server, world) -> None:
    async def scenario() -> None:
        ws = await _connect(live_server, world["token"], [str(world["zone"])])
        await _until(ws, lambda f: f["type"] == "snapshot")
        channel = ZONE_CHANNEL.format(zone_id=world["zone"])
        other = ZONE_CHANNEL.format(zone_id=uuid.uuid4())
        for i in range(10):  # a burst of ten positions within a few milliseconds
            get_redis().publish(channel, _courier_frame(world["zone"], world["courier"], i))
            get_redis().publish(other, _courier_frame(world["zone"], uuid.uuid4(), i))
        got = [f for f in await _frames(ws, within=1.8) if f["type"] == "courier"]
        assert 1 <= len(got) <= 2  # the first at once, then at most one more in the next second
        assert {f["courier_id"] for f in got} == {str(world["courier"])}
        assert got[-1]["lat"] == 52.5 + 9 / 1000  # the newest position is never lost
        await ws.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("case", ["customer_token", "unknown_zone", "malformed"])
def test_refused_with_1008(live_server, world, case: str) -> None:
    token = world["customer_token"] if case == "customer_token" else world["token"]
    zones = [str(uuid.uuid4())] if case == "unknown_zone" else [str(world["zone"])]

    async def scenario() -> None:
        ws = await websockets.connect(_url(live_server))
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await ws.send(
            json.dumps(
                {"type": "zones", "zone_ids": "all"} if case == "malformed" else {"type": "zones", "zone_ids": zones}
            )
        )
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008

    asyncio.run(scenario())


def test_a_big_snapshot_goes_out_in_parts_under_64_kib_that_add_up_to_the_whole() -> None:
    from dispatch.tracking_ops import split_snapshot

    orders = [{"id": str(uuid.uuid4()), "status": "packed", "lat": 52.5, "lon": 13.4} for _ in range(3_000)]
    couriers = [{"id": str(uuid.uuid4()), "status": "available"} for _ in range(200)]
    zone = {"id": "z", "code": "Z", "name": "Zone", "couriers": couriers, "orders": orders, "routes": []}
    parts = split_snapshot({"type": "snapshot", "at": "now", "zones": [zone]})
    assert len(parts) > 1
    assert all(len(json.dumps(p, separators=(",", ":"))) <= 64 * 1024 for p in parts)
    assert [(p["part"], p["parts"]) for p in parts] == [(k + 1, len(parts)) for k in range(len(parts))]
    merged_orders = [o for p in parts for z in p["zones"] for o in z["orders"]]
    merged_couriers = [c for p in parts for z in p["zones"] for c in z["couriers"]]
    assert (merged_orders, merged_couriers) == (orders, couriers)
    small = split_snapshot({"type": "snapshot", "at": "now", "zones": [{**zone, "orders": orders[:3]}]})
    assert [(p["part"], p["parts"]) for p in small] == [(1, 1)]
