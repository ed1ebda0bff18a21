"""`WS /ops/live`: the dispatcher's live map of chosen zones (docs/tracking.md).

First message: `{"type": "auth", "token": ...}` (dispatcher or admin); then `{"type": "zones",
"zone_ids": [...]}` at any time. Each zone choice is answered by a snapshot; courier positions
follow from the zones' Redis channels, at most one frame per courier per second: a newer
position replaces the one still waiting, so the map is never behind by more than a second and a
courier pinging fast cannot flood a dispatcher.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import anyio
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from core.auth.models import Role
from core.auth.service import get_active_user
from core.auth.tokens import decode_token
from core.db import session_scope
from core.errors import DomainError
from core.http.deps import public
from core.http.websockets import POLICY_VIOLATION, Close, first_message, frame_text, serve
from core.pubsub import get_hub
from core.settings import get_settings
from dispatch.after_commit import ZONE_CHANNEL
from dispatch.tracking_ops import MAX_ZONES, split_snapshot, zones_snapshot

router = APIRouter(prefix="/ops", tags=["ops: live map"])

PER_COURIER_S = 1.0
REFRESH_S = 10.0
OPERATORS = (Role.dispatcher, Role.admin)


class ZoneWatch:
    """One dispatcher socket's view: the latest waiting position per courier (bounded by the
    zones' couriers, however fast they ping) and when each courier was last sent."""

    def __init__(self) -> None:
        self.zone_ids: list[uuid.UUID] = []
        self.waiting: dict[str, str] = {}
        self.sent_at: dict[str, float] = {}
        self.want_snapshot = False
        self.ready = asyncio.Event()

    def deliver(self, channel: str, data: str) -> None:
        try:
            courier_id = str(json.loads(data)["courier_id"])
        except (ValueError, KeyError, TypeError):
            return
        self.waiting[courier_id] = data
        self.ready.set()

    def resync(self) -> None:
        self.want_snapshot = True
        self.ready.set()

    def due(self, now: float) -> tuple[list[str], float | None]:
        """Frames that may go now, and how long until the next one may."""
        out, wait = [], None
        for courier_id in list(self.waiting):
            left = self.sent_at.get(courier_id, -PER_COURIER_S) + PER_COURIER_S - now
            if left <= 0:
                out.append(self.waiting.pop(courier_id))
                self.sent_at[courier_id] = now
            else:
                wait = left if wait is None else min(wait, left)
        return out, wait


def _authorize(token: str) -> None:
    principal = decode_token(token, get_settings())
    with session_scope() as session:
        user = get_active_user(session, principal.user_id)
        if user.role not in OPERATORS or principal.role not in OPERATORS:
            raise DomainError("dispatchers only", code="forbidden")


def _snapshot(zone_ids: list[uuid.UUID]) -> dict[str, Any]:
    with session_scope() as session:
        return zones_snapshot(session, zone_ids=zone_ids)


async def _auth(ws: WebSocket) -> None:
    token = (await first_message(ws, reason="no_auth")).get("token")
    if not isinstance(token, str) or len(token) > 4096:
        raise Close(POLICY_VIOLATION, "no_auth")
    try:
        await run_in_threadpool(_authorize, token)
    except DomainError as exc:
        raise Close(POLICY_VIOLATION, exc.code) from exc


def _zone_ids(raw: str) -> list[uuid.UUID]:
    try:
        body = json.loads(raw)
        ids = body["zone_ids"] if body.get("type") == "zones" else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_ZONES:
            raise ValueError("zone_ids")
        return sorted({uuid.UUID(str(z)) for z in ids})
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Close(POLICY_VIOLATION, "malformed zones message") from exc


async def _choose(ws: WebSocket, watch: ZoneWatch) -> None:
    """Zone choices in; re-subscribes and asks for a snapshot on each."""
    hub = get_hub()
    try:
        while True:
            wanted = _zone_ids(frame_text(await ws.receive()))
            for zone_id in set(watch.zone_ids) - set(wanted):
                await hub.unsubscribe(ZONE_CHANNEL.format(zone_id=zone_id), watch)
            for zone_id in set(wanted) - set(watch.zone_ids):
                await hub.subscribe(ZONE_CHANNEL.format(zone_id=zone_id), watch)
            watch.zone_ids = wanted
            watch.waiting = {}  # positions of zones no longer watched must not leak through
            watch.resync()
    finally:
        for zone_id in watch.zone_ids:
            await hub.unsubscribe(ZONE_CHANNEL.format(zone_id=zone_id), watch)


async def _send(ws: WebSocket, watch: ZoneWatch) -> None:
    """Snapshots (on choice, after a Redis drop, every `REFRESH_S`) and throttled positions."""
    next_refresh = time.monotonic() + REFRESH_S
    while True:
        now = time.monotonic()
        if watch.zone_ids and (watch.want_snapshot or now >= next_refresh):
            watch.want_snapshot, next_refresh = False, now + REFRESH_S
            try:
                snapshot = await run_in_threadpool(_snapshot, watch.zone_ids)
            except DomainError as exc:
                raise Close(POLICY_VIOLATION, exc.code) from exc
            for part in split_snapshot(snapshot):
                await ws.send_text(json.dumps(part, separators=(",", ":")))
        watch.ready.clear()  # before reading `waiting`: a position arriving during the sends wakes us
        frames, wait = watch.due(time.monotonic())
        for frame in frames:
            await ws.send_text(frame)
        timeout = min(wait if wait is not None else REFRESH_S, max(0.0, next_refresh - time.monotonic()))
        with anyio.move_on_after(timeout):
            await watch.ready.wait()


async def _serve(ws: WebSocket) -> Close | None:
    watch, outcome = ZoneWatch(), []
    async with anyio.create_task_group() as tg:

        async def run(step: Any) -> None:
            try:
                await step
            except Close as close:
                outcome.append(close)
            except WebSocketDisconnect:
                pass
            tg.cancel_scope.cancel()

        tg.start_soon(run, _choose(ws, watch))
        tg.start_soon(run, _send(ws, watch))
    return outcome[0] if outcome else None


@router.websocket("/live", dependencies=[Depends(public)])
async def live(ws: WebSocket) -> None:
    """Authenticated in-band (first message), so the route itself is open (`public`)."""

    async def session() -> Close | None:
        await _auth(ws)
        return await _serve(ws)

    await serve(ws, label="ops", session=session, no_auth_reason="no_auth")
