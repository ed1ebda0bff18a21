"""What one dispatch cycle reads: the zone's on-shift couriers and its open orders, as plain rows.

Two statements for the orders (orders with their store, and line totals) and two for the couriers
(couriers with vehicle and shift, and their open stops), whatever the zone's size; the cycle's
read time is part of the benchmark.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from dispatch.fleet_models import ON_SHIFT, Courier, DispatchZoneLocation, FleetVehicle, Shift, ShiftStatus
from dispatch.models import FulfilmentStatus, Order, OrderFulfilment, OrderLine, OrderStatus
from dispatch.route_models import AssignmentState, OrderAssignment, RouteStop, StopKind, StopStatus
from stores.models import Location
from warehouse.models import Sku, TemperatureClass

# Orders the cycle looks at: still at a store (planned, maybe tentatively) or with a courier.
OPEN_STATUSES = (
    OrderStatus.accepted,
    OrderStatus.picking,
    OrderStatus.packed,
    OrderStatus.assigned,
    OrderStatus.picked_up,
    OrderStatus.failed_delivery,  # on board, going back to the store
)
ITEMS_PER_BAG = 8


@dataclass(slots=True)
class OrderRow:
    order_id: uuid.UUID
    status: OrderStatus
    location_id: uuid.UUID
    store_lat: float
    store_lon: float
    dropoff_lat: float
    dropoff_lon: float
    address: str
    note: str
    ready_at: datetime
    promised_to: datetime
    bags: int
    items: int
    grams: int
    cold: bool
    parts: int  # fulfilments: a split order has two pickups
    total_minor: int
    courier_id: uuid.UUID | None = None
    assignment: AssignmentState | None = None
    pinned: bool = False
    offer_expires_at: datetime | None = None
    retry_after: datetime | None = None


@dataclass(slots=True)
class StopRow:
    stop_id: uuid.UUID
    order_id: uuid.UUID
    kind: StopKind
    status: StopStatus
    seq: int


@dataclass(slots=True)
class CourierRow:
    courier_id: uuid.UUID
    lat: float | None
    lon: float | None
    kind: str
    capacity_units: int
    capacity_kg: int
    cold_box: bool
    shift_end: datetime
    stops: list[StopRow] = field(default_factory=list)


@dataclass(slots=True)
class Snapshot:
    now: datetime
    couriers: list[CourierRow]
    orders: list[OrderRow]


def read(session: Session, *, zone_id: uuid.UUID, now: datetime, soon_ready_s: int) -> Snapshot:
    return Snapshot(now, _couriers(session, zone_id), _orders(session, zone_id, now, soon_ready_s))


def _couriers(session: Session, zone_id: uuid.UUID) -> list[CourierRow]:
    rows = session.execute(
        select(
            Courier.id,
            Courier.last_lat,
            Courier.last_lon,
            FleetVehicle.kind,
            FleetVehicle.capacity_units,
            FleetVehicle.capacity_kg,
            FleetVehicle.cold_box,
            Shift.planned_end,
        )
        .join(FleetVehicle, FleetVehicle.id == Courier.vehicle_id)
        .join(Shift, and_(Shift.courier_id == Courier.id, Shift.status == ShiftStatus.active))
        .where(Courier.zone_id == zone_id, Courier.status.in_(ON_SHIFT))
        .order_by(Courier.id)
    ).all()
    couriers = [CourierRow(r[0], r[1], r[2], r[3].value, r[4], r[5], r[6], r[7]) for r in rows]
    by_id = {c.courier_id: c for c in couriers}
    if by_id:
        stops = session.execute(
            select(
                RouteStop.courier_id, RouteStop.id, RouteStop.order_id, RouteStop.kind, RouteStop.status, RouteStop.seq
            )
            .where(
                RouteStop.courier_id.in_(list(by_id)),
                RouteStop.status.in_((StopStatus.pending, StopStatus.arrived)),
            )
            .order_by(RouteStop.courier_id, RouteStop.seq)
        ).all()
        for s in stops:
            by_id[s[0]].stops.append(StopRow(s[1], s[2], s[3], s[4], s[5]))
    return couriers


def _orders(session: Session, zone_id: uuid.UUID, now: datetime, soon_ready_s: int) -> list[OrderRow]:
    zone_locations = select(DispatchZoneLocation.location_id).where(DispatchZoneLocation.zone_id == zone_id)
    parts = (
        select(OrderFulfilment.order_id, func.count().label("n")).group_by(OrderFulfilment.order_id).subquery("parts")
    )
    # Plain columns, not ORM objects: building 1,000 Order/Fulfilment/Assignment graphs (and
    # tracking them in the session) cost more than the query itself.
    rows = session.execute(
        select(
            Order.id,
            Order.status,
            Order.dropoff_lat,
            Order.dropoff_lon,
            Order.address,
            Order.note,
            Order.promised_to,
            Order.total_minor,
            OrderFulfilment.location_id,
            OrderFulfilment.ready_at,
            OrderFulfilment.picking_started_at,
            OrderFulfilment.created_at,
            OrderFulfilment.queue_wait_s,
            OrderFulfilment.lead_s,
            OrderFulfilment.pick_s,
            OrderFulfilment.bags,
            OrderFulfilment.cold_chain,
            Location.lat,
            Location.lon,
            parts.c.n,
            OrderAssignment.order_id,
            OrderAssignment.courier_id,
            OrderAssignment.state,
            OrderAssignment.pinned,
            OrderAssignment.offer_expires_at,
            OrderAssignment.retry_after,
        )
        .join(OrderFulfilment, OrderFulfilment.order_id == Order.id)
        .join(Location, Location.id == OrderFulfilment.location_id)
        .join(parts, parts.c.order_id == Order.id)
        .outerjoin(OrderAssignment, OrderAssignment.order_id == Order.id)
        .where(
            OrderFulfilment.location_id.in_(zone_locations),
            Order.status.in_(OPEN_STATUSES),
            OrderFulfilment.status != FulfilmentStatus.cancelled,
        )
        .order_by(Order.id)
    ).all()
    horizon = now + timedelta(seconds=soon_ready_s)
    out: dict[uuid.UUID, OrderRow] = {}
    for r in rows:
        if r.id in out:
            continue  # a split order whose both stores are in the zone: one row is enough
        has_assignment = r.order_id is not None
        if r.status is OrderStatus.failed_delivery and not has_assignment:
            continue  # already handed back
        ready = _ready_at(r, now)
        if r.status in (OrderStatus.accepted, OrderStatus.picking) and ready > horizon:
            continue
        out[r.id] = OrderRow(
            order_id=r.id,
            status=r.status,
            location_id=r.location_id,
            store_lat=r.lat,
            store_lon=r.lon,
            dropoff_lat=r.dropoff_lat,
            dropoff_lon=r.dropoff_lon,
            address=r.address,
            note=r.note,
            ready_at=ready,
            promised_to=r.promised_to,
            bags=r.bags or 1,
            items=0,
            grams=0,
            cold=bool(r.cold_chain),
            parts=int(r.n),
            total_minor=r.total_minor,
            courier_id=r.courier_id if has_assignment else None,
            assignment=r.state if has_assignment else None,
            pinned=bool(has_assignment and r.pinned),
            offer_expires_at=r.offer_expires_at if has_assignment else None,
            retry_after=r.retry_after if has_assignment else None,
        )
    _add_line_totals(session, out)
    return list(out.values())


def _ready_at(f: Any, now: datetime) -> datetime:
    """`f`: a result row with the fulfilment's timing columns."""
    if f.ready_at is not None:
        ready: datetime = f.ready_at
        return ready
    # Not packed yet: picking started (or will, after the queue) and takes pick_s.
    start: datetime = f.picking_started_at or (f.created_at + timedelta(seconds=f.queue_wait_s + f.lead_s))
    return max(now, start + timedelta(seconds=f.pick_s))


def _add_line_totals(session: Session, orders: dict[uuid.UUID, OrderRow]) -> None:
    if not orders:
        return
    qty = func.coalesce(OrderLine.picked_qty, OrderLine.qty)
    rows = session.execute(
        select(
            OrderLine.order_id,
            func.sum(qty),
            func.sum(qty * Sku.weight_g),
            func.bool_or(Sku.temperature != TemperatureClass.ambient),
        )
        .join(Sku, Sku.id == OrderLine.sku_id)
        .where(OrderLine.order_id.in_(list(orders)))
        .group_by(OrderLine.order_id)
    ).all()
    per_order = defaultdict(lambda: (0, 0, False), {r[0]: (int(r[1] or 0), int(r[2] or 0), bool(r[3])) for r in rows})
    for order in orders.values():
        items, grams, cold = per_order[order.order_id]
        order.items, order.grams = items, grams
        order.cold = order.cold or cold
        if order.status in (OrderStatus.accepted, OrderStatus.picking):
            order.bags = max(1, math.ceil(items / ITEMS_PER_BAG))
