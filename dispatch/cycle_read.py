"""What one dispatch cycle reads: the zone's on-shift couriers and its open orders, as plain rows.

Two statements for the orders (orders with their store, assignment and declines; line totals) and
one for the couriers (with vehicle, shift and open stops), plus one for split orders with a part on
board, whatever the zone's size: the cycle's read time is part of the benchmark, and at simulation
sizes a statement's round trip costs more than its rows.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.geo import GeoPoint, haversine_m
from dispatch.fleet_models import ON_SHIFT, Courier, DispatchZoneLocation, FleetVehicle, Shift, ShiftStatus
from dispatch.models import FulfilmentStatus, Order, OrderFulfilment, OrderLine, OrderStatus
from dispatch.route_models import AssignmentState, DeclinedOffer, OrderAssignment, RouteStop, StopKind, StopStatus
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
class Pickup:
    """One fulfilment of an order: the store it is picked at, when it is ready, what it weighs.
    `on_board`: the courier already picked this part up (the other part of a split order not yet)."""

    location_id: uuid.UUID
    store_lat: float
    store_lon: float
    ready_at: datetime
    bags: int
    items: int = 0
    grams: int = 0
    cold: bool = False
    on_board: bool = False


@dataclass(slots=True)
class OrderRow:
    order_id: uuid.UUID
    status: OrderStatus
    dropoff_lat: float
    dropoff_lon: float
    address: str
    note: str
    promised_to: datetime
    total_minor: int
    pickups: list[Pickup]  # one per fulfilment, by location id: a split order has two
    courier_id: uuid.UUID | None = None
    assignment: AssignmentState | None = None
    pinned: bool = False
    offer_expires_at: datetime | None = None
    retry_after: datetime | None = None
    declined_by: tuple[uuid.UUID, ...] = ()  # couriers who declined it or let the offer time out

    @property
    def split(self) -> bool:
        return len(self.pickups) > 1

    @property
    def bags(self) -> int:
        return sum(p.bags for p in self.pickups)

    @property
    def items(self) -> int:
        return sum(p.items for p in self.pickups)

    def pickup_at(self, location_id: uuid.UUID | None) -> Pickup:
        return next((p for p in self.pickups if p.location_id == location_id), self.pickups[0])


@dataclass(slots=True)
class StopRow:
    stop_id: uuid.UUID
    order_id: uuid.UUID
    kind: StopKind
    status: StopStatus
    seq: int
    location_id: uuid.UUID | None = None


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
    """On-shift couriers with their open stops in order: one row per stop (or one stopless row)."""
    open_stop = and_(RouteStop.courier_id == Courier.id, RouteStop.status.in_((StopStatus.pending, StopStatus.arrived)))
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
            RouteStop.id,
            RouteStop.order_id,
            RouteStop.kind,
            RouteStop.status,
            RouteStop.seq,
            RouteStop.location_id,
        )
        .join(FleetVehicle, FleetVehicle.id == Courier.vehicle_id)
        .join(Shift, and_(Shift.courier_id == Courier.id, Shift.status == ShiftStatus.active))
        .outerjoin(RouteStop, open_stop)
        .where(Courier.zone_id == zone_id, Courier.status.in_(ON_SHIFT))
        .order_by(Courier.id, RouteStop.seq)
    ).all()
    couriers: list[CourierRow] = []
    for r in rows:
        if not couriers or couriers[-1].courier_id != r[0]:
            couriers.append(CourierRow(r[0], r[1], r[2], r[3].value, r[4], r[5], r[6], r[7]))
        if r[8] is not None:  # one active shift per courier (uq_courier_shifts_active): no repeats
            couriers[-1].stops.append(StopRow(r[8], r[9], r[10], r[11], r[12], r[13]))
    return couriers


def _orders(session: Session, zone_id: uuid.UUID, now: datetime, soon_ready_s: int) -> list[OrderRow]:
    zone_locations = select(DispatchZoneLocation.location_id).where(DispatchZoneLocation.zone_id == zone_id)
    zone_orders = select(OrderFulfilment.order_id).where(OrderFulfilment.location_id.in_(zone_locations))
    # Plain columns, not ORM objects: building 1,000 Order/Fulfilment/Assignment graphs (and
    # tracking them in the session) cost more than the query itself. One row per fulfilment.
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
            OrderFulfilment.location_id.in_(zone_locations).label("in_zone"),
            OrderFulfilment.location_id.in_(select(DispatchZoneLocation.location_id)).label("zoned"),
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
            OrderAssignment.order_id,
            OrderAssignment.courier_id,
            OrderAssignment.state,
            OrderAssignment.pinned,
            OrderAssignment.offer_expires_at,
            OrderAssignment.retry_after,
            func.array(
                select(DeclinedOffer.courier_id).where(DeclinedOffer.order_id == Order.id).scalar_subquery()
            ).label("declined"),
        )
        .join(OrderFulfilment, OrderFulfilment.order_id == Order.id)
        .join(Location, Location.id == OrderFulfilment.location_id)
        .outerjoin(OrderAssignment, OrderAssignment.order_id == Order.id)
        .where(
            Order.id.in_(zone_orders),
            Order.status.in_(OPEN_STATUSES),
            OrderFulfilment.status != FulfilmentStatus.cancelled,
        )
        .order_by(Order.id, OrderFulfilment.location_id)
    ).all()
    horizon = now + timedelta(seconds=soon_ready_s)
    out: dict[uuid.UUID, OrderRow] = {}
    zoned: dict[uuid.UUID, dict[uuid.UUID, bool]] = defaultdict(dict)  # order -> its zoned stores -> ours?
    for r in rows:
        pickup = Pickup(r.location_id, r.lat, r.lon, _ready_at(r, now), r.bags or 1, cold=bool(r.cold_chain))
        if r.zoned:
            zoned[r.id][r.location_id] = r.in_zone
        if r.id in out:
            out[r.id].pickups.append(pickup)
            continue
        has_assignment = r.order_id is not None
        if r.status is OrderStatus.failed_delivery and not has_assignment:
            continue  # already handed back
        out[r.id] = OrderRow(
            order_id=r.id,
            status=r.status,
            dropoff_lat=r.dropoff_lat,
            dropoff_lon=r.dropoff_lon,
            address=r.address,
            note=r.note,
            promised_to=r.promised_to,
            total_minor=r.total_minor,
            pickups=[pickup],
            courier_id=r.courier_id if has_assignment else None,
            assignment=r.state if has_assignment else None,
            pinned=bool(has_assignment and r.pinned),
            offer_expires_at=r.offer_expires_at if has_assignment else None,
            retry_after=r.retry_after if has_assignment else None,
            declined_by=tuple(sorted(r.declined)),
        )
    for oid, stores in zoned.items():
        if len(stores) > 1 and oid in out and not stores[_planning_store(out[oid], stores)]:
            del out[oid]
    # Not ready within the horizon: not planned yet (a split order waits for its later part).
    for oid, o in list(out.items()):
        if o.status in (OrderStatus.accepted, OrderStatus.picking) and max(p.ready_at for p in o.pickups) > horizon:
            del out[oid]
    _add_line_totals(session, out)
    _add_parts_on_board(session, out)
    return list(out.values())


def _planning_store(order: OrderRow, zoned: Iterable[uuid.UUID]) -> uuid.UUID:
    """Which store's zone plans a split order whose parts are in several zones: the one nearest
    the customer (ties: the lower id). Every zone reading the order agrees without asking the
    others, and the courier then collects the other part too (a zone's couriers ride anywhere;
    zones only partition the planning)."""
    door = GeoPoint(lat=order.dropoff_lat, lon=order.dropoff_lon)
    where = {p.location_id: GeoPoint(lat=p.store_lat, lon=p.store_lon) for p in order.pickups}
    return min(zoned, key=lambda store: (haversine_m(door, where[store]), store))


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
            OrderFulfilment.location_id,
            func.sum(qty),
            func.sum(qty * Sku.weight_g),
            func.bool_or(Sku.temperature != TemperatureClass.ambient),
        )
        .join(Sku, Sku.id == OrderLine.sku_id)
        .join(OrderFulfilment, OrderFulfilment.id == OrderLine.fulfilment_id)
        .where(OrderLine.order_id.in_(list(orders)))
        .group_by(OrderLine.order_id, OrderFulfilment.location_id)
    ).all()
    per_part = defaultdict(
        lambda: (0, 0, False), {(r[0], r[1]): (int(r[2] or 0), int(r[3] or 0), bool(r[4])) for r in rows}
    )
    for order in orders.values():
        for part in order.pickups:
            items, grams, cold = per_part[(order.order_id, part.location_id)]
            part.items, part.grams = items, grams
            part.cold = part.cold or cold
            if order.status in (OrderStatus.accepted, OrderStatus.picking):
                part.bags = max(1, math.ceil(items / ITEMS_PER_BAG))


def _add_parts_on_board(session: Session, orders: dict[uuid.UUID, OrderRow]) -> None:
    """Parts of split orders that their courier picked up already (the order becomes `picked_up`
    only with the last part on board)."""
    waiting = [o.order_id for o in orders.values() if o.split and o.status is OrderStatus.assigned]
    if not waiting:
        return
    done = session.execute(
        select(RouteStop.order_id, RouteStop.location_id).where(
            RouteStop.order_id.in_(waiting), RouteStop.kind == StopKind.pickup, RouteStop.status == StopStatus.done
        )
    ).all()
    for oid, location_id in done:
        orders[oid].pickup_at(location_id).on_board = True
