"""`WS /courier/stream` on a real uvicorn: token in the first message, pings in with acks, route
updates out; bad tokens, malformed frames and oversized frames close the socket (1008 / 1009)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from core import clock
from core.auth.models import Role
from core.db import session_scope
from dispatch import after_commit
from tests.dispatch import fleet_world as fw
from tests.factories import create_user, token_for


def _url(live_server: str) -> str:
    return live_server.replace("http://", "ws://") + "/courier/stream"


@pytest.fixture
def courier(live_server) -> dict[str, Any]:
    with session_scope() as s:
        fleet = fw.build(s)
        c = fw.add_courier(s, fleet)
        c.last_lat = c.last_lon = c.last_seen_at = None
        return {"id": c.id, "token": token_for(fleet.users[c.id])}


async def _close_code(ws: Any) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(5):
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    return int(closed.value.rcvd.code)


def test_pings_in_acks_and_route_updates_out(live_server, courier) -> None:
    async def scenario() -> None:
        async with websockets.connect(_url(live_server)) as ws:
            await ws.send(json.dumps({"type": "auth", "token": courier["token"]}))
            hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert hello == {"type": "hello", "courier_id": str(courier["id"])}
            ping = {"lat": 52.52, "lon": 13.405, "accuracy_m": 8, "ts": clock.now().isoformat()}
            await ws.send(json.dumps(ping))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert ack == {"type": "ack", "accepted": 1, "history_only": 0, "dropped": {}}
            await ws.send(json.dumps({**ping, "ts": (clock.now() - timedelta(seconds=5)).isoformat()}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["dropped"] == {"out_of_order": 1}
            # Dispatch publishes a route update for this courier (any API process relays it).
            await asyncio.sleep(0.2)  # the subscription is set up concurrently with the first ack
            with session_scope() as s:
                after_commit.to_courier(s, courier["id"], {"type": "route", "version": 7})
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "route", "version": 7}

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("first", "code"),
    [
        ("not json", 1008),
        (json.dumps({"type": "auth", "token": "garbage"}), 1008),
        (json.dumps({"type": "auth"}), 1008),
        ("x" * (65 * 1024), 1009),
    ],
)
def test_bad_first_message_closes(live_server, courier, first, code) -> None:
    async def scenario() -> int:
        async with websockets.connect(_url(live_server), max_size=None) as ws:
            await ws.send(first)
            return await _close_code(ws)

    assert asyncio.run(scenario()) == code


def test_a_customer_token_is_refused(live_server, courier) -> None:
    with session_scope() as s:
        token = token_for(create_user(s, role=Role.customer))

    async def scenario() -> int:
        async with websockets.connect(_url(live_server)) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            return await _close_code(ws)

    assert asyncio.run(scenario()) == 1008


@pytest.mark.parametrize(("frame", "code"), [("{bad", 1008), (json.dumps({"lat": 200}), 1008), ("y" * 70_000, 1009)])
def test_malformed_or_oversized_frames_after_auth_close(live_server, courier, frame, code) -> None:
    async def scenario() -> int:
        async with websockets.connect(_url(live_server), max_size=None) as ws:
            await ws.send(json.dumps({"type": "auth", "token": courier["token"]}))
            await asyncio.wait_for(ws.recv(), 5)
            await ws.send(frame)
            return await _close_code(ws)

    assert asyncio.run(scenario()) == code
