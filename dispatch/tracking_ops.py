"""What a dispatcher's live map of some zones starts from: the zones' couriers, open orders and
open route stops (docs/tracking.md, `WS /ops/live`). Couriers then move by `courier` frames on
the zone channels; this snapshot is re-read periodically for orders and routes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.errors import NotFound
from dispatch.fleet_models import Courier, CourierStatus, DispatchZone, DispatchZoneLocation
from dispatch.models import Order, OrderFulfilment, OrderStatus
from dispatch.route_models import OrderAssignment, RouteStop, StopStatus

MAX_ZONES = 50
MAX_ORDERS_PER_ZONE = 2_000
OPEN = (
    OrderStatus.placed,
    OrderStatus.accepted,
    OrderStatus.picking,
    OrderStatus.packed,
    OrderStatus.assigned,
    OrderStatus.picked_up,
)


class UnknownZone(NotFound):
    code = "zone_not_found"


def zones_snapshot(session: Session, *, zone_ids: Sequence[uuid.UUID]) -> dict[str, Any]:
    zones = session.scalars(select(DispatchZone).where(DispatchZone.id.in_(zone_ids))).all()
    missing = set(zone_ids) - {z.id for z in zones}
    if missing:
        raise UnknownZone("No such dispatch zone.", zone_ids=sorted(str(z) for z in missing))
    return {
        "type": "snapshot",
        "at": clock.now().isoformat(),
        "zones": [_zone(session, z) for z in sorted(zones, key=lambda z: z.code)],
    }


def _zone(session: Session, zone: DispatchZone) -> dict[str, Any]:
    couriers = session.scalars(
        select(Courier).where(Courier.zone_id == zone.id, Courier.status != CourierStatus.offline)
    ).all()
    orders = session.execute(
        select(
            Order.id, Order.status, Order.dropoff_lat, Order.dropoff_lon, Order.promised_to, OrderAssignment.courier_id
        )
        .join(OrderFulfilment, OrderFulfilment.order_id == Order.id)
        .join(DispatchZoneLocation, DispatchZoneLocation.location_id == OrderFulfilment.location_id)
        .outerjoin(OrderAssignment, OrderAssignment.order_id == Order.id)
        .where(DispatchZoneLocation.zone_id == zone.id, Order.status.in_(OPEN))
        .distinct()
        .order_by(Order.promised_to)
        .limit(MAX_ORDERS_PER_ZONE)
    ).all()
    stops = session.scalars(
        select(RouteStop)
        .where(
            RouteStop.courier_id.in_([c.id for c in couriers]),
            RouteStop.status.in_([StopStatus.pending, StopStatus.arrived]),
        )
        .order_by(RouteStop.courier_id, RouteStop.seq)
    ).all()
    routes: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for s in stops:
        routes.setdefault(s.courier_id, []).append(
            {
                "order_id": str(s.order_id),
                "kind": s.kind.value,
                "seq": s.seq,
                "lat": s.lat,
                "lon": s.lon,
                "status": s.status.value,
                "planned_arrival_at": _iso(s.planned_arrival_at),
            }
        )
    return {
        "id": str(zone.id),
        "code": zone.code,
        "name": zone.name,
        "couriers": [
            {
                "id": str(c.id),
                "status": c.status.value,
                "lat": c.last_lat,
                "lon": c.last_lon,
                "last_seen_at": _iso(c.last_seen_at),
            }
            for c in couriers
        ],
        "orders": [
            {
                "id": str(o[0]),
                "status": o[1].value,
                "lat": o[2],
                "lon": o[3],
                "promised_to": o[4].isoformat(),
                "courier_id": str(o[5]) if o[5] else None,
            }
            for o in orders
        ],
        "routes": [{"courier_id": str(cid), "stops": s} for cid, s in routes.items()],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
