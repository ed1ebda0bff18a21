"""The first frame of a tracking socket (and the one after a lost Redis subscription): everything
the page needs to draw, built from the database and the order's last frame in Redis.

The last position frame kept in Redis is preferred to the courier's row: it is exactly what the
other watchers saw, with its `seq`. Without one (no ping since the Redis key expired) the
courier's last stored position is turned into a frame the same way a ping would be.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.redis import get_redis
from dispatch import after_commit, tracking
from dispatch.errors import OrderNotFound
from dispatch.fleet_models import Courier
from dispatch.models import Order
from dispatch.route_models import OrderAssignment, RouteStop, StopKind, StopStatus

POSITION_KEYS = ("lat", "lon", "heading", "eta", "stops_before_you", "stale", "ts")


def snapshot(session: Session, *, order_id: uuid.UUID, read_only: bool) -> dict[str, Any]:
    order = session.get(Order, order_id)
    if order is None:
        raise OrderNotFound("No such order.", order_id=str(order_id))
    key = {"order_id": order_id}
    seq, last = get_redis().mget(after_commit.ORDER_SEQ_KEY.format(**key), after_commit.ORDER_LAST_KEY.format(**key))
    frame: dict[str, Any] = {
        "type": "snapshot",
        "order_id": str(order_id),
        "seq": int(seq or 0),
        "status": order.status.value,
        "promised_from": order.promised_from.isoformat(),
        "promised_to": order.promised_to.isoformat(),
        "eta": None,
        **dict.fromkeys(POSITION_KEYS),
        "stale": False,
        "read_only": read_only,
    }
    if order.status in tracking.POSITION_VISIBLE:
        position = _last_position(last) or _position_from_db(session, order)
        if position is not None:
            frame.update({k: position.get(k) for k in POSITION_KEYS})
            frame["status"] = position.get("status", frame["status"])
            frame["stale"] = frame["stale"] or tracking.is_stale(_ts(position), now=clock.now())
    elif order.status not in tracking.ENDED:
        frame["eta"] = _planned_eta(session, order_id)
    return frame


def _last_position(raw: str | bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    frame: dict[str, Any] = json.loads(raw)
    return frame if frame.get("type") == "position" else None


def _ts(position: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(position["ts"]))


def _position_from_db(session: Session, order: Order) -> dict[str, Any] | None:
    courier = session.scalar(
        select(Courier)
        .join(OrderAssignment, OrderAssignment.courier_id == Courier.id)
        .where(OrderAssignment.order_id == order.id)
    )
    if courier is None or courier.last_lat is None or courier.last_lon is None or courier.last_seen_at is None:
        return None
    fix = tracking.Fix(lat=courier.last_lat, lon=courier.last_lon, heading=None, ts=courier.last_seen_at)
    carried = next((c for c in tracking.carried_orders(session, courier.id) if c.order_id == order.id), None)
    if carried is None:
        return None
    return tracking.position_frame(fix, carried, tracking.open_stops(session, courier.id), now=clock.now())


def _planned_eta(session: Session, order_id: uuid.UUID) -> str | None:
    """Before pick-up the plan's arrival at the door is the best estimate there is."""
    planned = session.scalar(
        select(RouteStop.planned_arrival_at).where(
            RouteStop.order_id == order_id,
            RouteStop.kind == StopKind.dropoff,
            RouteStop.status.in_([StopStatus.pending, StopStatus.arrived]),
        )
    )
    return planned.isoformat() if planned is not None else None
