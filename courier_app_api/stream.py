"""`WS /courier/stream`: pings in, route updates and offers out, for one courier.

Protocol: the first message must be `{"type": "auth", "token": "<access token>"}` within 10 s
(never the query string, which ends up in logs). Then each text message is one ping
(`{lat, lon, accuracy_m, speed_mps, heading, ts}`, optionally with `"type": "ping"`) answered by
`{"type": "ack", ...}` with the sanity-check result; the server pushes `{"type": "route", ...}`,
`{"type": "offer", ...}` and friends as dispatch publishes them for this courier (Redis pub/sub,
so any API process can serve any courier; each process listens through its one shared
subscription hub, `core.pubsub`).

Close codes: 1008 for a bad or missing token, a malformed or binary frame; 1009 for a frame over
64 KiB.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import anyio
import structlog
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
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
from dispatch import pings
from dispatch.after_commit import COURIER_CHANNEL
from dispatch.fleet_schemas import PingIn, PingResult
from dispatch.shifts import courier_for

router = APIRouter(prefix="/courier", tags=["courier app"])
log = structlog.get_logger(__name__)


def _authenticate(token: str) -> tuple[uuid.UUID, uuid.UUID]:
    """(user id, courier id) for a valid courier token; DomainError otherwise."""
    principal = decode_token(token, get_settings())
    with session_scope() as session:
        user = get_active_user(session, principal.user_id)
        if user.role is not Role.courier or principal.role is not Role.courier:
            raise DomainError("couriers only", code="forbidden_role")
        return user.id, courier_for(session, user.id).id


def _record(user_id: uuid.UUID, ping: PingIn) -> PingResult:
    with session_scope() as session:
        return pings.record(session, user_id=user_id, pings=[ping])


async def _auth(ws: WebSocket) -> tuple[uuid.UUID, uuid.UUID]:
    reason = "first message must be {type: auth, token}"
    token = (await first_message(ws, reason=reason)).get("token")
    if not isinstance(token, str) or len(token) > 4096:
        raise Close(POLICY_VIOLATION, reason)
    try:
        return await run_in_threadpool(_authenticate, token)
    except DomainError as exc:
        raise Close(POLICY_VIOLATION, exc.code) from exc


async def _pings_in(ws: WebSocket, user_id: uuid.UUID) -> None:
    while True:
        raw = frame_text(await ws.receive())
        try:
            body = json.loads(raw)
            if not isinstance(body, dict) or body.pop("type", "ping") != "ping":
                raise ValueError("not a ping")
            ping = PingIn.model_validate(body)
        except (ValueError, ValidationError) as exc:
            raise Close(POLICY_VIOLATION, "malformed ping") from exc
        result = await run_in_threadpool(_record, user_id, ping)
        await ws.send_json({"type": "ack", **result.model_dump()})


class _Inbox:
    """The courier's channel as the process's subscription hub (`core.pubsub`) hands it over:
    one shared Redis connection per process rather than one per courier socket. The hub's
    reader must not block, so frames wait here and the socket's own task sends them in order."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[str] = asyncio.Queue()

    def deliver(self, channel: str, data: str) -> None:
        self.frames.put_nowait(data)

    def resync(self) -> None:
        # Route updates and offers are not replayed: after a Redis drop the app's next
        # GET /courier/route (and the next re-plan, which publishes the whole route) catch up.
        log.info("courier_stream_resync")


async def _updates_out(ws: WebSocket, courier_id: uuid.UUID) -> None:
    hub, inbox, channel = get_hub(), _Inbox(), COURIER_CHANNEL.format(courier_id=courier_id)
    await hub.subscribe(channel, inbox)
    try:
        while True:
            await ws.send_text(await inbox.frames.get())
    finally:
        # Shielded: the task group cancels this task when the socket ends, and the hub must
        # still drop the channel once its last listener is gone.
        with anyio.CancelScope(shield=True):
            await hub.unsubscribe(channel, inbox)


async def _serve(ws: WebSocket, user_id: uuid.UUID, courier_id: uuid.UUID) -> Close | None:
    """Pings in and updates out until the client leaves (None) or breaks the protocol."""
    closing: Close | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(_updates_out, ws, courier_id)
        try:
            await _pings_in(ws, user_id)
        except Close as close:
            closing = close
        except WebSocketDisconnect:
            closing = None
        tg.cancel_scope.cancel()
    return closing


@router.websocket("/stream", dependencies=[Depends(public)])
async def stream(ws: WebSocket) -> None:
    """Authenticated in-band (first message), so the route itself is open (`public`)."""

    async def session() -> Close | None:
        user_id, courier_id = await _auth(ws)
        await ws.send_json({"type": "hello", "courier_id": str(courier_id)})
        return await _serve(ws, user_id, courier_id)

    await serve(ws, label="courier", session=session, no_auth_reason="no auth message")
