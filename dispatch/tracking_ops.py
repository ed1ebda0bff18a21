"""What a dispatcher's live map of some zones starts from: the zones' couriers, open orders and
open route stops (docs/tracking.md, `WS /ops/live`). Couriers then move by `courier` frames on
the zone channels; this snapshot is re-read periodically for orders and routes."""

from __future__ import annotations

import json
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
MAX_FRAME_BYTES = 60 * 1024  # under the 64 KiB frame limit, with room for the envelope
LISTS = ("couriers", "orders", "routes")
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


def split_snapshot(snapshot: dict[str, Any], *, limit: int = MAX_FRAME_BYTES) -> list[dict[str, Any]]:
    """The snapshot as frames of at most `limit` bytes of JSON: one when it fits, else parts
    (`part` k of `parts`) whose zones' lists are to be concatenated by the client."""
    parts: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    size = 0

    def zone_in(part: dict[str, Any], zone: dict[str, Any]) -> dict[str, Any]:
        if zone["id"] not in part:
            part[zone["id"]] = {"id": zone["id"], "code": zone["code"], "name": zone["name"], **{k: [] for k in LISTS}}
        entry: dict[str, Any] = part[zone["id"]]
        return entry

    for zone in snapshot["zones"]:
        zone_in(current, zone)
        for key in LISTS:
            for item in zone[key]:
                item_size = len(json.dumps(item, separators=(",", ":"))) + 1
                if size + item_size > limit - 512 and size > 0:
                    parts.append(current)
                    current, size = {}, 0
                zone_in(current, zone)[key].append(item)
                size += item_size
    parts.append(current)
    return [
        {"type": "snapshot", "at": snapshot["at"], "part": k + 1, "parts": len(parts), "zones": list(part.values())}
        for k, part in enumerate(parts)
    ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
