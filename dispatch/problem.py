"""The one translator between dispatch rows and the routing library's types (DESIGN.md §2).

`build` turns a `Snapshot` into a `routing.Problem` (integers: seconds since the cycle's `now`,
metres, bags, grams) plus the index that maps solver ids and locations back to rows, and the
previous plan as a warm start. `routes_of` turns a `routing.Plan` back into per-courier stop lists
with wall-clock times.

Modelling choices, each a product rule:
- a courier starts where their last accepted ping put them (at their zone's first store if they
  never sent one); their shift end closes their route;
- capacity has three dimensions: bags, grams, and bags in a cold box (zero without one), so
  chilled and frozen orders only go to couriers who can keep them cold;
- picked-up orders are `on_board` their courier; orders an operator pinned, or whose pickup the
  courier has already arrived at (or, for a split order, collected one part of), are fixed to
  them (`assigned`);
- pickup not before the order is ready, and each second it waits after that costs
  `pickup_wait_weight`; the promised window's end is a soft deadline (each late second costs
  `lateness_weight`); each second of route time before a delivery costs `delay_weight` (the
  customer's wait for the courier's other stops); chilled/frozen goods ride at most `max_ride_cold_s`;
- a failed delivery going back to the store is an on-board shipment whose "delivery" is the store;
- a split order (picked at two stores) is one shipment per store, grouped: one courier collects
  both parts, each not before it is ready, and delivers them together (with parts in two zones,
  one zone plans it: see `cycle_read`);
- a courier who declined an order (or let the offer time out) is excluded from carrying it.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from dispatch.config import DispatchSettings
from dispatch.cycle_read import CourierRow, OrderRow, Pickup, Snapshot
from dispatch.models import OrderStatus
from dispatch.route_models import StopKind, StopStatus
from routing import Cost, Plan, Problem, Route, Shipment, SolverStats, TravelTimes, Vehicle, Visit
from routing.problem import TIME_MAX
from routing.types import IntMatrix, Point, Profile

_BIG = 10_000  # cold-box capacity of a vehicle that has one: only the bags dimension limits it


@dataclass(slots=True)
class Index:
    """How solver ids and locations map back to rows."""

    now: datetime
    points: list[Point]
    orders: dict[str, OrderRow]
    couriers: dict[str, CourierRow]
    store_index: dict[uuid.UUID, int] = field(default_factory=dict)
    dropoff_index: dict[uuid.UUID, int] = field(default_factory=dict)
    parts: dict[str, tuple[OrderRow, Pickup]] = field(default_factory=dict)  # shipment id -> part

    def at(self, seconds: int) -> datetime:
        return self.now + timedelta(seconds=int(seconds))

    def order_of(self, shipment_id: str) -> OrderRow:
        return self.parts[shipment_id][0]


def shipment_id(order: OrderRow, part: Pickup) -> str:
    """The order id for a single-store order (so plans, explanations and tests read naturally);
    order id and store for each part of a split order."""
    return f"{order.order_id}/{part.location_id}" if order.split else str(order.order_id)


@dataclass(frozen=True, slots=True)
class Built:
    problem: Problem
    index: Index
    previous: Plan | None  # the routes as they stand, for the warm start


def _rel(now: datetime, when: datetime) -> int:
    return max(0, min(TIME_MAX, math.ceil((when - now).total_seconds())))


def build(snapshot: Snapshot, *, settings: DispatchSettings, travel: TravelTimes) -> Built:
    now = snapshot.now
    index = Index(now=now, points=[], orders={}, couriers={})
    orders = snapshot.orders
    # Couriers first (their start), then stores, then doors.
    first = orders[0].pickups[0] if orders else None
    fallback = Point(first.store_lat, first.store_lon) if first is not None else None
    starts: dict[uuid.UUID, int] = {}
    for c in snapshot.couriers:
        if c.lat is not None and c.lon is not None:
            where = Point(c.lat, c.lon)
        elif fallback is not None:
            where = fallback
        else:
            continue
        starts[c.courier_id] = len(index.points)
        index.points.append(where)
    for o in orders:
        for part in o.pickups:
            if part.location_id not in index.store_index:
                index.store_index[part.location_id] = len(index.points)
                index.points.append(Point(part.store_lat, part.store_lon))
    for o in orders:
        index.dropoff_index[o.order_id] = len(index.points)
        index.points.append(Point(o.dropoff_lat, o.dropoff_lon))

    couriers = [c for c in snapshot.couriers if c.courier_id in starts]
    owner = _fixed_owners(orders, couriers)
    shipments = [
        _shipment(o, part, index, settings, owner.get(o.order_id))
        for o in orders
        if _plannable(o, owner)
        for part in o.pickups
    ]
    wanted = {s.id for s in shipments}
    # Each courier's fixed orders, grouped once (scanning every order per courier was 0.5 s at
    # 1,000 orders × 300 couriers).
    held: dict[uuid.UUID, list[tuple[OrderRow, bool]]] = {}
    for o in orders:
        if o.order_id in owner:
            courier_id, carried = owner[o.order_id]
            held.setdefault(courier_id, []).append((o, carried))
    vehicles = [_vehicle(c, starts[c.courier_id], held.get(c.courier_id, []), wanted, index) for c in couriers]
    for c in couriers:
        index.couriers[str(c.courier_id)] = c
    for o in orders:
        index.orders[str(o.order_id)] = o
        for part in o.pickups:
            index.parts[shipment_id(o, part)] = (o, part)
    profiles = sorted({v.profile for v in vehicles}) or ["bike"]
    matrices = {p: travel.matrices(index.points, p) for p in profiles} if index.points else {}
    by_id = {s.id: s for s in shipments}
    vehicles = [_room_for_on_board(v, by_id, matrices[v.profile].durations) for v in vehicles]
    problem = Problem(
        matrices=matrices,
        vehicles=tuple(vehicles),
        shipments=tuple(shipments),
        drop_penalty=settings.drop_penalty_s,
        reassignment_cost=settings.reassignment_cost_s,
    )
    return Built(problem, index, _previous_plan(problem, couriers, index))


def _plannable(o: OrderRow, owner: Mapping[uuid.UUID, tuple[uuid.UUID, bool]]) -> bool:
    # Goods on board of a courier who is not on shift are not the solver's to move (flagged).
    on_board = o.status in (OrderStatus.picked_up, OrderStatus.failed_delivery) or any(p.on_board for p in o.pickups)
    return not on_board or o.order_id in owner


def _fixed_owners(
    orders: Sequence[OrderRow], couriers: Sequence[CourierRow]
) -> dict[uuid.UUID, tuple[uuid.UUID, bool]]:
    """order id -> (courier, on board) for orders the solver must leave where they are."""
    on_shift = {c.courier_id for c in couriers}
    arrived = {
        s.order_id: c.courier_id
        for c in couriers
        for s in c.stops
        if s.kind is StopKind.pickup and s.status is StopStatus.arrived
    }
    fixed: dict[uuid.UUID, tuple[uuid.UUID, bool]] = {}
    for o in orders:
        if o.courier_id is None or o.courier_id not in on_shift:
            continue
        if o.status in (OrderStatus.picked_up, OrderStatus.failed_delivery):
            fixed[o.order_id] = (o.courier_id, True)
        elif o.pinned or arrived.get(o.order_id) == o.courier_id or any(p.on_board for p in o.pickups):
            fixed[o.order_id] = (o.courier_id, False)
    return fixed


def _demand(part: Pickup) -> tuple[int, int, int]:
    return (part.bags, part.grams, part.bags if part.cold else 0)


def _shipment(
    o: OrderRow, part: Pickup, index: Index, settings: DispatchSettings, owner: tuple[uuid.UUID, bool] | None
) -> Shipment:
    store = index.store_index[part.location_id]
    returning = o.status is OrderStatus.failed_delivery
    # A decline counts unless an operator has since given the order to that courier anyway.
    excluded = tuple(str(c) for c in o.declined_by if owner is None or c != owner[0])
    return Shipment(
        id=shipment_id(o, part),
        pickup=store,
        delivery=store if returning else index.dropoff_index[o.order_id],
        demand=_demand(part),
        pickup_window=(_rel(index.now, part.ready_at), TIME_MAX),
        delivery_window=_delivery_window(o, index.now, returning),
        lateness_cost=0 if returning else settings.lateness_weight,
        pickup_wait_cost=0 if returning else settings.pickup_wait_weight,
        pickup_service_s=settings.pickup_service_s,
        delivery_service_s=settings.dropoff_service_s,
        max_ride_s=settings.max_ride_cold_s if part.cold and not returning else None,
        delay_cost=0 if returning else settings.delay_weight,
        # Goods going back are already on board, each part to its own store: nothing to group.
        group=str(o.order_id) if o.split and not returning else None,
        excluded=excluded,
    )


def _delivery_window(o: OrderRow, now: datetime, returning: bool) -> tuple[int, int]:
    if returning:
        return (0, TIME_MAX)
    due = _rel(now, o.promised_to)
    if o.retry_after is None:
        return (0, due)
    # A re-attempt waits (hard) for the customer to be back; lateness still counts from `due`.
    earliest = _rel(now, o.retry_after)
    return (earliest, max(due, earliest))


def _vehicle(
    c: CourierRow,
    start: int,
    mine: Sequence[tuple[OrderRow, bool]],
    wanted: set[str],
    index: Index,
) -> Vehicle:
    """`mine`: the orders fixed to this courier, each with whether it is on board (a part of a
    split order may be on board while the other still waits at its store)."""
    parts = [(shipment_id(o, p), p, carried or p.on_board) for o, carried in mine for p in o.pickups]
    on_board = tuple(sid for sid, _, carried in parts if carried and sid in wanted)
    fixed = tuple(sid for sid, _, carried in parts if not carried and sid in wanted)
    capacity = [c.capacity_units, c.capacity_kg * 1000, _BIG if c.cold_box else 0]
    # What is physically on board is a fact: never let a stale capacity make the problem invalid.
    carried_load = [sum(_demand(p)[k] for _, p, carried in parts if carried) for k in range(3)]
    capacity = [max(cap, ld) for cap, ld in zip(capacity, carried_load, strict=True)]
    profile: Profile = c.kind if c.kind in ("bike", "scooter", "car") else "bike"  # type: ignore[assignment]
    return Vehicle(
        id=str(c.courier_id),
        start=start,
        capacity=tuple(capacity),
        shift=(0, max(0, _rel(index.now, c.shift_end))),
        profile=profile,
        on_board=on_board,
        assigned=fixed,
    )


def _room_for_on_board(vehicle: Vehicle, shipments: Mapping[str, Shipment], durations: IntMatrix) -> Vehicle:
    """A courier delivers what they carry even when that runs past their shift end: the route may
    end as late as delivering the goods on board from door to nearest door takes, never earlier.

    Without this, goods on board of a courier near the end of their shift (or past it) are
    unservable, no plan can be valid, and the whole zone's cycle assigned nothing (measured:
    11 of 175 cycles of a saturated simulated lunch peak)."""
    carried = [shipments[sid] for sid in vehicle.on_board]
    # Room for the slower of two orders: nearest door next, and earliest deadline first (the
    # order in which the greedy fallback places them), so either fits.
    by_deadline = sorted(carried, key=lambda s: (s.delivery_window[1], s.id))
    finish = max(_finish(vehicle, carried, durations, nearest=True), _finish(vehicle, by_deadline, durations))
    if finish <= vehicle.shift[1]:
        return vehicle
    return replace(vehicle, shift=(vehicle.shift[0], min(TIME_MAX, finish)))


def _finish(vehicle: Vehicle, carried: Sequence[Shipment], durations: IntMatrix, *, nearest: bool = False) -> int:
    left = list(carried)
    t, here = vehicle.shift[0], vehicle.start
    while left:
        arrivals = [max(t + int(durations[here, s.delivery]), s.delivery_window[0]) for s in left]
        i = arrivals.index(min(arrivals)) if nearest else 0
        shipment = left.pop(i)
        t, here = arrivals[i] + shipment.delivery_service_s, shipment.delivery
    return t


def _previous_plan(problem: Problem, couriers: Sequence[CourierRow], index: Index) -> Plan | None:
    """The routes as written last cycle, as a `Plan` the solver can warm-start from (times are not
    needed: `routing.solve` re-schedules the sequences)."""
    routes = []
    zero = (0,) * problem.dimensions
    for c in couriers:
        vid = str(c.courier_id)
        if vid not in problem.vehicle_index:
            continue
        visits = []
        for s in c.stops:
            order = index.orders.get(str(s.order_id))
            if order is None:
                continue
            # A pickup or a return is one part's (by store); a drop-off delivers every part.
            parts = order.pickups if s.kind is StopKind.dropoff else [order.pickup_at(s.location_id)]
            for part in parts:
                sid = shipment_id(order, part)
                if sid not in problem.shipment_index:
                    continue
                shipment = problem.shipment(sid)
                if s.kind is StopKind.pickup and shipment.pickup is not None:
                    visits.append(Visit("pickup", shipment.pickup, 0, 0, 0, zero, sid))
                else:
                    visits.append(Visit("delivery", shipment.delivery, 0, 0, 0, zero, sid))
        if visits:
            routes.append(Route(vid, tuple(visits), 0, 0, 0))
    if not routes:
        return None
    return Plan(tuple(routes), (), Cost(0, 0, 0, 0, 0), SolverStats("database", "previous", 0.0))


@dataclass(frozen=True, slots=True)
class PlannedStop:
    order_id: uuid.UUID
    kind: StopKind
    location_id: uuid.UUID | None  # the store of a pickup or return; None for a drop-off
    arrival: datetime
    departure: datetime


def routes_of(plan: Plan, index: Index) -> dict[uuid.UUID, list[PlannedStop]]:
    """Courier id -> stops in order with wall-clock times. The parts of a split order reach the
    door together (the solver puts every pickup first): one drop-off, at the first part's visit."""
    out: dict[uuid.UUID, list[PlannedStop]] = {}
    for route in plan.routes:
        courier_id = uuid.UUID(route.vehicle_id)
        stops = []
        dropped_off: set[uuid.UUID] = set()
        for v in route.visits:
            if v.shipment_id is None or v.kind not in ("pickup", "delivery"):
                continue
            order, part = index.parts[v.shipment_id]
            if v.kind == "pickup":
                kind, where = StopKind.pickup, part.location_id
            elif order.status is OrderStatus.failed_delivery:
                kind, where = StopKind.return_, part.location_id
            elif order.order_id in dropped_off:
                continue
            else:
                kind, where = StopKind.dropoff, None
                dropped_off.add(order.order_id)
            stops.append(PlannedStop(order.order_id, kind, where, index.at(v.arrival_s), index.at(v.departure_s)))
        out[courier_id] = stops
    return out
