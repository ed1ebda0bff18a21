"""`WS /customer/orders/{id}/track` and `POST /customer/orders/{id}/share` (docs/tracking.md).

The socket authenticates in-band (first message: an access token of the order's customer, or a
share token), answers with a snapshot and then relays the order's frames from this process's
room. Failing auth closes with 1008 before any frame is sent.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from core.auth.models import Role
from core.auth.service import get_active_user
from core.auth.tokens import Principal, decode_token
from core.db import session_scope
from core.errors import DomainError
from core.http.deps import DbSession, allow, public
from core.http.websockets import POLICY_VIOLATION, TRY_AGAIN_LATER, Close, first_message, frame_payload, serve
from core.settings import get_settings
from dispatch import tracking_share
from dispatch.errors import OrderNotFound
from dispatch.models import Order
from dispatch.tracking_feed import RESYNC, Feed, SlowConsumer
from dispatch.tracking_rooms import get_rooms
from dispatch.tracking_snapshot import snapshot

router = APIRouter(prefix="/customer", tags=["customer: tracking"])

Customer = Annotated[Principal, Depends(allow(Role.customer))]


class ShareOut(BaseModel):
    token: str
    url: str
    expires_at: str


@router.post("/orders/{order_id}/share", status_code=201, responses={404: {"description": "`order_not_found`"}})
def share_my_order(order_id: uuid.UUID, session: DbSession, principal: Customer) -> ShareOut:
    """A link that lets someone else watch this order live, read-only, until delivery + 15 min."""
    link = tracking_share.issue(session, customer_id=principal.user_id, order_id=order_id)
    return ShareOut(token=link.token, url=link.url, expires_at=link.expires_at.isoformat())


def _authorize(order_id: uuid.UUID, first: dict[str, Any]) -> bool:
    """True for a share-link watcher (read-only), False for the customer; DomainError otherwise."""
    with session_scope() as session:
        share = first.get("share")
        if isinstance(share, str) and len(share) <= 4096:
            tracking_share.verify(session, token=share, order_id=order_id)
            return True
        token = first.get("token")
        if not isinstance(token, str) or len(token) > 4096:
            raise DomainError("first message must be {type: auth, token} or {type: auth, share}", code="no_auth")
        principal = decode_token(token, get_settings())
        user = get_active_user(session, principal.user_id)
        order = session.get(Order, order_id)
        if principal.role is not Role.customer or user.role is not Role.customer:
            raise DomainError("customers only", code="forbidden")
        if order is None or order.customer_id != user.id:
            raise OrderNotFound("No such order.", order_id=str(order_id))
        return False


def _snapshot(order_id: uuid.UUID, read_only: bool) -> dict[str, Any]:
    with session_scope() as session:
        return snapshot(session, order_id=order_id, read_only=read_only)


async def _auth(ws: WebSocket, order_id: uuid.UUID) -> bool:
    first = await first_message(ws, reason="no_auth")
    try:
        return await run_in_threadpool(_authorize, order_id, first)
    except DomainError as exc:
        raise Close(POLICY_VIOLATION, exc.code) from exc


async def _read_until_gone(ws: WebSocket) -> Close | None:
    """Watchers have nothing to say after auth; reading notices them leaving (and oversize)."""
    try:
        while True:
            frame_payload(await ws.receive())
    except WebSocketDisconnect:
        return None
    except Close as close:
        return close


async def _write(ws: WebSocket, feed: Feed, order_id: uuid.UUID, read_only: bool) -> Close | None:
    try:
        while True:
            item = await feed.next()
            if item is RESYNC:
                fresh = await run_in_threadpool(_snapshot, order_id, read_only)
                feed.apply_snapshot(fresh)
                await ws.send_text(json.dumps(fresh))
            else:
                await ws.send_text(str(item))
    except SlowConsumer:
        return Close(TRY_AGAIN_LATER, "slow_consumer")
    except WebSocketDisconnect:
        return None


async def _serve(ws: WebSocket, feed: Feed, order_id: uuid.UUID, read_only: bool) -> Close | None:
    """Relay until the client leaves (None), breaks the protocol or falls behind (a close).

    The writer runs in this task and one reader task watches the client: two tasks per socket
    rather than a task group of three, as at 10,000 sockets every task and scope costs memory.
    The reader ending, or the feed overflowing while a send is stuck on a client that stopped
    reading, cancels the writer.
    """
    writer = asyncio.current_task()
    assert writer is not None
    reader = asyncio.create_task(_read_until_gone(ws))
    finished = False

    def stop(*_: object) -> None:
        if not finished:  # a callback already scheduled must not cancel us after we are done
            writer.cancel()

    reader.add_done_callback(stop)
    feed.on_cut_off = stop
    try:
        return await _write(ws, feed, order_id, read_only)
    except asyncio.CancelledError:
        if reader.done() and not reader.cancelled():
            writer.uncancel()
            return reader.result()
        if feed.overflowed:
            writer.uncancel()
            return Close(TRY_AGAIN_LATER, "slow_consumer")
        raise  # the server is shutting down
    finally:
        finished = True
        feed.on_cut_off = None
        reader.cancel()


async def _watch(ws: WebSocket, order_id: uuid.UUID, read_only: bool) -> Close | None:
    rooms, feed = get_rooms(), Feed()
    room = await rooms.join(order_id, feed)
    try:
        first = await run_in_threadpool(_snapshot, order_id, read_only)
        feed.apply_snapshot(first)
        room.seed(first)
        await ws.send_text(json.dumps(first))
        return await _serve(ws, feed, order_id, read_only)
    finally:
        await rooms.leave(order_id, feed)


@router.websocket("/orders/{order_id}/track", dependencies=[Depends(public)])
async def track(ws: WebSocket, order_id: uuid.UUID) -> None:
    """Authenticated in-band (first message), so the route itself is open (`public`)."""

    async def session() -> Close | None:
        return await _watch(ws, order_id, await _auth(ws, order_id))

    await serve(ws, label="tracking", session=session, no_auth_reason="no_auth")
