"""Tracking on a real uvicorn in this process (so the injected clock reaches it): the single stale
frame after 60 s without a ping, and share links (read-only watchers, expiry after delivery)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from core import clock
from core.db import session_scope
from dispatch import orders, pings
from dispatch.fleet_schemas import PingIn
from dispatch.models import OrderStatus
from tests import tracking_world
from tests.customer_api.test_tracking_processes import _frames, _open, _until


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    fc = clock.FrozenClock(datetime.now(UTC).replace(microsecond=0))
    with clock.use_clock(fc):
        yield fc


def _ping_now(frozen: clock.FrozenClock, world: tracking_world.Delivery, lat: float) -> None:
    frozen.advance(2)  # pings are 1/s at most, after the courier's last fix
    fix = PingIn(lat=lat, lon=13.405, accuracy_m=5, heading=180.0, ts=clock.now())
    with session_scope() as s:
        result = pings.record(s, user_id=world.fleet.users[world.courier.id].id, pings=[fix])
    assert result.accepted == 1


def _share(live_server: str, world: tracking_world.Delivery, i: int = 0, *, as_: int = 0) -> httpx.Response:
    return httpx.post(
        f"{live_server}/customer/orders/{world.orders[i]}/share",
        headers={"Authorization": f"Bearer {world.tokens[as_]}"},
    )


def test_one_stale_frame_after_60_s_without_a_ping(live_server, frozen) -> None:
    with session_scope() as s:
        world = tracking_world.build(s, customers=1)

    async def scenario() -> None:
        ws = await _open(live_server, world.orders[0], {"type": "auth", "token": world.tokens[0]})
        await asyncio.wait_for(ws.recv(), 10)
        _ping_now(frozen, world, 52.5201)
        fresh = await _until(ws, lambda f: f["type"] == "position")
        assert fresh[-1]["stale"] is False
        frozen.advance(59)
        assert [f for f in await _frames(ws, within=2.5) if f.get("stale")] == []
        frozen.advance(2)
        stale = await _until(ws, lambda f: f["type"] == "position", within=5)
        assert stale[-1]["stale"] is True
        assert stale[-1]["lat"] == 52.5201
        assert stale[-1]["seq"] > fresh[-1]["seq"]
        frozen.advance(60)
        assert await _frames(ws, within=2.5) == []  # one stale frame per silence, not one a second
        _ping_now(frozen, world, 52.5202)
        again = await _until(ws, lambda f: f["type"] == "position")
        assert again[-1]["stale"] is False
        await ws.close()

    asyncio.run(scenario())


def test_share_link_lets_someone_watch_read_only(live_server, frozen) -> None:
    with session_scope() as s:
        world = tracking_world.build(s, customers=2)
    r = _share(live_server, world)
    assert r.status_code == 201, r.text
    link: dict[str, Any] = r.json()
    assert link["url"].endswith(f"#share={link['token']}")
    assert str(world.orders[0]) in link["url"]

    async def scenario() -> None:
        ws = await _open(live_server, world.orders[0], {"type": "auth", "share": link["token"]})
        snap = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert snap["read_only"] is True
        assert snap["order_id"] == str(world.orders[0])
        _ping_now(frozen, world, 52.5203)
        got = await _until(ws, lambda f: f["type"] == "position")
        assert got[-1]["lat"] == 52.5203
        await ws.close()
        other = await _open(live_server, world.orders[1], {"type": "auth", "share": link["token"]})
        assert await _close_code(other) == 1008

    asyncio.run(scenario())


async def _close_code(ws: Any) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    return int(closed.value.rcvd.code)


def test_share_link_expires_15_minutes_after_delivery(live_server, frozen) -> None:
    with session_scope() as s:
        world = tracking_world.build(s, customers=1)
    token = _share(live_server, world).json()["token"]
    with session_scope() as s:
        orders.advance(s, order_id=world.orders[0], to=OrderStatus.delivered)

    async def watch() -> int | None:
        ws = await _open(live_server, world.orders[0], {"type": "auth", "share": token})
        try:
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert first["status"] == "delivered"
            assert first["lat"] is None
            return None
        except Exception:
            return await _close_code(ws)
        finally:
            await ws.close()

    frozen.advance(14 * 60)
    assert asyncio.run(watch()) is None
    frozen.advance(2 * 60)
    assert asyncio.run(watch()) == 1008
    late = _share(live_server, world)
    assert late.status_code == 401
    assert late.json()["code"] == "share_expired"


def test_only_the_owner_can_share(live_server) -> None:
    with session_scope() as s:
        world = tracking_world.build(s, customers=2)
    r = _share(live_server, world, 0, as_=1)
    assert r.status_code == 404
    assert r.json()["code"] == "order_not_found"
    assert _share(live_server, world, 0).status_code == 201
