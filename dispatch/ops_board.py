"""What moves on the operators' map: couriers (by state), open orders' doors, and planned routes.

A GeoJSON FeatureCollection the ops page polls (and redraws when a live frame arrives). Routes
are the courier's open stops in plan order, starting from the courier's last known position.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from core import clock
from dispatch.kpis import OPEN_STATUSES

MAX_ORDERS: Final = 2_000  # the newest open orders; a city at peak has a few hundred

_COURIERS = text(
    """
    SELECT c.id, u.display_name, c.status, c.last_lat, c.last_lon, c.last_seen_at, c.flagged_at
    FROM couriers c JOIN users u ON u.id = c.user_id
    WHERE c.last_lat IS NOT NULL AND c.status <> 'offline'
    ORDER BY u.display_name
    """
)
_ORDERS = text(
    """
    SELECT o.id, o.status, o.dropoff_lat, o.dropoff_lon, o.address, o.placed_at, o.promised_to
    FROM orders o WHERE o.status = ANY(CAST(:open AS text[]))
    ORDER BY o.placed_at DESC LIMIT :limit
    """
)
_STOPS = text(
    """
    SELECT s.courier_id, s.kind, s.lat, s.lon, s.order_id
    FROM route_stops s WHERE s.status IN ('pending', 'arrived')
    ORDER BY s.courier_id, s.seq
    """
)


def board_geojson(session: Session) -> dict[str, Any]:
    now = clock.now()
    couriers = session.execute(_COURIERS).mappings().all()
    orders = session.execute(_ORDERS, {"open": list(OPEN_STATUSES), "limit": MAX_ORDERS}).mappings().all()
    stops = session.execute(_STOPS).mappings().all()
    features = [*_routes(couriers, stops), *(_order(o, now) for o in orders), *(_courier(c) for c in couriers)]
    return {"type": "FeatureCollection", "properties": {"at": now.isoformat()}, "features": features}


def _point(lat: float, lon: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def _courier(row: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": f"courier:{row['id']}",
        "geometry": _point(row["last_lat"], row["last_lon"]),
        "properties": {
            "feature": "courier",
            "id": str(row["id"]),
            "name": row["display_name"],
            "status": row["status"],
            "seen_at": _iso(row["last_seen_at"]),
            "flagged": row["flagged_at"] is not None,
        },
    }


def _order(row: Any, now: datetime) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": f"order:{row['id']}",
        "geometry": _point(row["dropoff_lat"], row["dropoff_lon"]),
        "properties": {
            "feature": "order",
            "id": str(row["id"]),
            "status": row["status"],
            "address": row["address"],
            "placed_at": _iso(row["placed_at"]),
            "promised_to": _iso(row["promised_to"]),
            "late": row["promised_to"] < now,
        },
    }


def _routes(couriers: Any, stops: Any) -> list[dict[str, Any]]:
    start = {c["id"]: [c["last_lon"], c["last_lat"]] for c in couriers}
    lines: dict[Any, list[list[float]]] = {}
    for stop in stops:
        line = lines.setdefault(stop["courier_id"], [start[stop["courier_id"]]] if stop["courier_id"] in start else [])
        line.append([stop["lon"], stop["lat"]])
    return [
        {
            "type": "Feature",
            "id": f"route:{courier_id}",
            "geometry": {"type": "LineString", "coordinates": coords},
            "properties": {"feature": "route", "courier_id": str(courier_id)},
        }
        for courier_id, coords in lines.items()
        if len(coords) >= 2
    ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
