"""What a customer may see of their delivery, as tracking frames (docs/tracking.md).

Position is visible only while the order is `picked_up` (the privacy window); before and after,
only its status. A position frame names the courier's position, a live ETA and how many stops
come first — a count, never where the other customers live.

The ETA is recomputed at every ping: from the live position along the courier's open stops up to
this drop-off, leg by leg with the routing engine's travel times (`dispatch.travel`), so a courier
stuck in traffic moves the ETA even when the plan has not been re-solved yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.geo import GeoPoint, haversine_m
from dispatch import after_commit, notifications
from dispatch.models import Order, OrderStatus
from dispatch.route_models import OrderAssignment, RouteStop, StopKind, StopStatus
from dispatch.travel import TravelEstimator, default_estimator

S = OrderStatus
POSITION_VISIBLE = frozenset({S.picked_up})
# After these the courier is gone from the customer's screen for good.
ENDED = frozenset({S.delivered, S.cancelled, S.failed_delivery, S.returned})
ARRIVING_M = 250.0
STALE_AFTER = timedelta(seconds=60)
DELAY_THRESHOLD = timedelta(minutes=5)
DELAY_NOTICE = "delay"  # the kind `notifications.record_delay` queues, once per order


@dataclass(frozen=True, slots=True)
class Fix:
    """A courier position as the tracking frames need it."""

    lat: float
    lon: float
    heading: float | None
    ts: datetime

    @property
    def point(self) -> GeoPoint:
        return GeoPoint(lat=self.lat, lon=self.lon)


@dataclass(frozen=True, slots=True)
class Carried:
    order_id: uuid.UUID
    customer_id: uuid.UUID
    dropoff: GeoPoint
    promised_to: datetime
    delay_noticed: bool = False  # the customer was already told it runs late (once per order)


class Stop(Protocol):
    """What a position frame needs of an open stop (a `RouteStop` row or an `OpenStop`)."""

    @property
    def order_id(self) -> uuid.UUID: ...
    @property
    def kind(self) -> StopKind: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...


@dataclass(frozen=True, slots=True)
class OpenStop:
    order_id: uuid.UUID
    kind: StopKind
    lat: float
    lon: float


def live_eta(
    start: GeoPoint, legs: Sequence[GeoPoint], *, now: datetime, estimator: TravelEstimator | None = None
) -> datetime:
    """Arrival at the last of `legs`, visiting them in order from `start` (each leg's seconds
    include the estimator's hand-over time at that stop)."""
    travel = estimator or default_estimator()
    seconds, here = 0, start
    for stop in legs:
        seconds += travel.seconds_to([here], stop)[0]
        here = stop
    return now + timedelta(seconds=seconds)


def position_frame(fix: Fix, carried: Carried, open_stops: Sequence[Stop], *, now: datetime) -> dict[str, Any]:
    """The frame for one carried order (without `seq`, which Redis assigns at publish)."""
    drop = next(
        (i for i, s in enumerate(open_stops) if s.order_id == carried.order_id and s.kind is StopKind.dropoff), None
    )
    if drop is None:  # not on a route (yet): straight to the door
        legs, before = [carried.dropoff], 0
    else:
        legs, before = [GeoPoint(lat=s.lat, lon=s.lon) for s in open_stops[: drop + 1]], drop
    eta = live_eta(fix.point, legs, now=now)
    near = haversine_m(fix.point, carried.dropoff) <= ARRIVING_M
    return {
        "type": "position",
        "order_id": str(carried.order_id),
        "status": "arriving" if near and before == 0 else S.picked_up.value,
        "lat": fix.lat,
        "lon": fix.lon,
        "heading": fix.heading,
        "eta": eta.isoformat(),
        "stops_before_you": before,
        "stale": False,
        "ts": fix.ts.isoformat(),
    }


def carried_orders(session: Session, courier_id: uuid.UUID) -> list[Carried]:
    """The orders this courier has picked up and not yet handed over. Read at every ping, so an
    order reassigned to someone else stops receiving this courier's positions at once."""
    rows = session.execute(
        select(Order.id, Order.customer_id, Order.dropoff_lat, Order.dropoff_lon, Order.promised_to)
        .join(OrderAssignment, OrderAssignment.order_id == Order.id)
        .where(OrderAssignment.courier_id == courier_id, Order.status == S.picked_up)
    ).all()
    return [Carried(r[0], r[1], GeoPoint(lat=r[2], lon=r[3]), r[4]) for r in rows]


def open_stops(session: Session, courier_id: uuid.UUID) -> list[RouteStop]:
    return list(
        session.scalars(
            select(RouteStop)
            .where(RouteStop.courier_id == courier_id, RouteStop.status.in_([StopStatus.pending, StopStatus.arrived]))
            .order_by(RouteStop.seq)
        )
    )


def publish_position(
    session: Session,
    *,
    courier_id: uuid.UUID,
    zone_id: uuid.UUID,
    fix: Fix,
    speed: float | None,
    carried: Sequence[Carried],
    stops: Sequence[Stop],
) -> None:
    """After commit: a position frame to each of the `carried` orders' watchers (with a `delay`
    notice the first time its live ETA slips past the promise) and one frame to the zone's
    dispatchers. `carried` and the courier's open `stops` in route order are read with the
    ping batch (`dispatch.ping_repository.record_fixes`), so they cost no statement here."""
    now = clock.now()
    for order in carried:
        frame = position_frame(fix, order, stops, now=now)
        after_commit.to_order(session, order.order_id, frame)
        eta = datetime.fromisoformat(frame["eta"])
        # Already noticed: `record_delay` would find its row and send nothing, so it is not asked.
        if (
            eta > order.promised_to + DELAY_THRESHOLD
            and not order.delay_noticed
            and notifications.record_delay(
                session, order_id=order.order_id, customer_id=order.customer_id, eta=eta, promised_to=order.promised_to
            )
        ):
            after_commit.to_order(session, order.order_id, delay_frame(order.order_id, eta, order.promised_to))
    after_commit.publish(
        session,
        after_commit.ZONE_CHANNEL.format(zone_id=zone_id),
        {
            "type": "courier",
            "zone_id": str(zone_id),
            "courier_id": str(courier_id),
            "lat": fix.lat,
            "lon": fix.lon,
            "heading": fix.heading,
            "speed_mps": speed,
            "ts": fix.ts.isoformat(),
        },
    )


def delay_frame(order_id: uuid.UUID, eta: datetime, promised_to: datetime) -> dict[str, Any]:
    return {
        "type": "delay",
        "order_id": str(order_id),
        "eta": eta.isoformat(),
        "promised_to": promised_to.isoformat(),
        "late_by_s": int((eta - promised_to).total_seconds()),
    }


def status_frame(order_id: uuid.UUID, status: OrderStatus, at: datetime) -> dict[str, Any]:
    return {"type": "status", "order_id": str(order_id), "status": status.value, "at": at.isoformat()}


def stale_frame(last_position: dict[str, Any]) -> dict[str, Any]:
    """The last position again, flagged stale (no ping for `STALE_AFTER`); `seq` is assigned anew."""
    frame = {k: v for k, v in last_position.items() if k != "seq"}
    frame["stale"] = True
    return frame


def is_stale(position_ts: datetime, *, now: datetime) -> bool:
    return now - position_ts > STALE_AFTER
