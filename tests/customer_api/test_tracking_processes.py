"""Live tracking across real API processes and real Redis: pings into one uvicorn process, the
customer's socket on another; privacy window, other customers' stops, foreign tokens."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from core import clock
from core.db import session_scope
from dispatch import orders
from dispatch.models import OrderStatus
from dispatch.route_models import OrderAssignment
from tests import tracking_world
from tests.api_processes import api_processes_fixture, ws_url  # noqa: F401  (registers the fixture)
from tests.dispatch import fleet_world as fw

pytestmark = pytest.mark.usefixtures("committed_db")


def _ping(i: int, *, lat: float = 52.5200, lon: float = 13.4050) -> dict[str, Any]:
    # 2 s apart (the rate limit is 1/s), a few metres each: accepted, in order.
    ts = clock.now() + timedelta(seconds=2 * (i + 1))
    return {"lat": lat + 0.0002 * i, "lon": lon, "accuracy_m": 5, "heading": 90.0, "ts": ts.isoformat()}


def _post_pings(base: str, token: str, pings: list[dict[str, Any]]) -> None:
    for ping in pings:
        headers = {"Authorization": f"Bearer {token}"}
        r = httpx.post(f"{base}/courier/pings", json={"pings": [ping]}, headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == 1, r.text


async def _open(base: str, order_id: Any, first: dict[str, Any]) -> Any:
    ws = await websockets.connect(ws_url(base, f"/customer/orders/{order_id}/track"))
    await ws.send(json.dumps(first))
    return ws


async def _frames(ws: Any, *, within: float) -> list[dict[str, Any]]:
    """Every frame that arrives within `within` seconds."""
    got: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while (left := end - loop.time()) > 0:
        try:
            got.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
        except TimeoutError:
            break
    return got


async def _until(ws: Any, pred: Any, *, within: float = 5.0) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(within):
        while True:
            got.append(json.loads(await ws.recv()))
            if pred(got[-1]):
                return got


def test_pings_into_one_process_reach_the_customer_on_another_in_order(api_processes) -> None:
    a, b = api_processes(2)
    with session_scope() as s:
        world = tracking_world.build(s, customers=1)
    pings = [_ping(i) for i in range(6)]

    async def scenario() -> None:
        ws = await _open(b, world.orders[0], {"type": "auth", "token": world.tokens[0]})
        snap = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert snap["type"] == "snapshot"
        assert snap["status"] == "picked_up"
        assert snap["read_only"] is False
        await asyncio.to_thread(_post_pings, a, world.courier_token, pings)
        got = await _until(ws, lambda f: f.get("ts") == pings[-1]["ts"])
        positions = [f for f in got if f["type"] == "position"]
        assert [p["lat"] for p in positions] == [p["lat"] for p in pings]
        seqs = [snap["seq"]] + [f["seq"] for f in got]
        assert seqs == sorted(set(seqs))  # strictly increasing
        last = positions[-1]
        assert set(last) >= {"seq", "status", "lat", "lon", "heading", "eta", "stops_before_you", "stale"}
        assert last["stale"] is False
        assert last["stops_before_you"] == 0
        assert last["heading"] == 90.0
        assert clock.now() < clock.now().fromisoformat(last["eta"])
        await ws.close()

    asyncio.run(scenario())


def test_positions_only_between_picked_up_and_delivered(api_processes) -> None:
    a, b = api_processes(2)
    with session_scope() as s:
        world = tracking_world.build(s, customers=1, picked_up=False)
    order_id = world.orders[0]

    async def scenario() -> None:
        ws = await _open(b, order_id, {"type": "auth", "token": world.tokens[0]})
        snap = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert snap["status"] == "assigned"
        assert snap["lat"] is None
        assert snap["stops_before_you"] is None
        await asyncio.to_thread(_post_pings, a, world.courier_token, [_ping(0)])
        before = await _frames(ws, within=1.5)
        assert [f for f in before if f["type"] == "position"] == []
        with session_scope() as s:
            orders.advance(s, order_id=order_id, to=OrderStatus.picked_up)
        await _until(ws, lambda f: f["type"] == "status" and f["status"] == "picked_up")
        await asyncio.to_thread(_post_pings, a, world.courier_token, [_ping(1)])
        during = await _until(ws, lambda f: f["type"] == "position")
        assert during[-1]["lat"] == _ping(1)["lat"]
        with session_scope() as s:
            orders.advance(s, order_id=order_id, to=OrderStatus.delivered)
        await _until(ws, lambda f: f["type"] == "status" and f["status"] == "delivered")
        await asyncio.to_thread(_post_pings, a, world.courier_token, [_ping(2)])
        after = await _frames(ws, within=1.5)
        assert [f for f in after if f["type"] == "position"] == []
        await ws.close()

    asyncio.run(scenario())


def test_second_customer_learns_nothing_about_the_first_customers_stop(api_processes) -> None:
    a, b = api_processes(2)
    with session_scope() as s:
        world = tracking_world.build(s, customers=2)
    first_drop = tracking_world.DROPOFFS[0]

    async def scenario() -> None:
        ws = await _open(b, world.orders[1], {"type": "auth", "token": world.tokens[1]})
        frames = [json.loads(await asyncio.wait_for(ws.recv(), 10))]
        await asyncio.to_thread(_post_pings, a, world.courier_token, [_ping(0), _ping(1)])
        frames += await _until(ws, lambda f: f["type"] == "position" and f["lat"] == _ping(1)["lat"])
        frames += await _frames(ws, within=1.0)
        text = json.dumps(frames)
        assert str(world.orders[0]) not in text
        assert f"{first_drop[0]}" not in text
        assert f"{first_drop[1]}" not in text
        assert {f["order_id"] for f in frames} == {str(world.orders[1])}
        assert frames[-1]["stops_before_you"] == 1  # a count, nothing more
        await ws.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("who", ["other_customer", "courier", "garbage"])
def test_anyone_but_the_customer_is_closed_1008_before_any_frame(api_processes, who: str) -> None:
    (b,) = api_processes(1)
    with session_scope() as s:
        world = tracking_world.build(s, customers=2)
    token = {"other_customer": world.tokens[1], "courier": world.courier_token, "garbage": "x.y.z"}[who]

    async def scenario() -> None:
        ws = await _open(b, world.orders[0], {"type": "auth", "token": token})
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)  # the very first receive: no frame came before
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008

    asyncio.run(scenario())


def test_after_reassignment_the_old_couriers_positions_stop(api_processes) -> None:
    a, b = api_processes(2)
    with session_scope() as s:
        world = tracking_world.build(s, customers=1)
        new = fw.add_courier(s, world.fleet, lat=52.5, lon=13.4)
        new_token = tracking_world.token_for(world.fleet.users[new.id])
    order_id = world.orders[0]

    async def scenario() -> None:
        ws = await _open(b, order_id, {"type": "auth", "token": world.tokens[0]})
        await asyncio.wait_for(ws.recv(), 10)
        with session_scope() as s:
            assignment = s.get(OrderAssignment, order_id)
            assert assignment is not None
            assignment.courier_id = new.id
        await asyncio.to_thread(_post_pings, a, world.courier_token, [_ping(0)])
        old = await _frames(ws, within=1.0)
        assert [f for f in old if f["type"] == "position"] == []
        await asyncio.to_thread(_post_pings, a, new_token, [_ping(0, lat=52.5, lon=13.4)])
        got = await _until(ws, lambda f: f["type"] == "position")
        assert got[-1]["lat"] == 52.5
        await ws.close()

    asyncio.run(scenario())
