"""The write half of a dispatch cycle: assignments, stops, order states, the run and explanations.

Runs in one transaction that first takes the zone's advisory lock (a second guard behind the Redis
lock, in case that expired during an overlong solve) and locks the planned orders in id order.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from core import clock
from dispatch import after_commit
from dispatch import fleet_repository as repo
from dispatch.config import get_dispatch_settings
from dispatch.cycle_read import OrderRow
from dispatch.dispatch_explain import Explanation
from dispatch.fleet_models import ON_SHIFT, Courier, CourierStatus, DispatchZone, Shift, ShiftStatus
from dispatch.models import OrderFulfilment, OrderStatus
from dispatch.problem import Built, PlannedStop, routes_of
from dispatch.route_models import (
    AssignmentState,
    CourierRoute,
    DispatchExplanation,
    DispatchRun,
    OrderAssignment,
    PodPolicy,
    RouteStop,
    StopKind,
    StopStatus,
)
from dispatch.states import transition
from routing import Plan

ON_BOARD = (OrderStatus.picked_up, OrderStatus.failed_delivery)
# An order may have moved on through the store's states since the read: still ours to plan.
_STORE_STATES = (OrderStatus.accepted, OrderStatus.picking, OrderStatus.packed, OrderStatus.assigned)


@dataclass(frozen=True, slots=True)
class Written:
    run_id: uuid.UUID
    orders: int
    assigned: int
    moved: int
    unassigned: int


def apply(
    session: Session,
    *,
    zone_id: uuid.UUID,
    built: Built,
    plan: Plan,
    explanations: Sequence[Explanation],
    policy: str,
    timings: tuple[float, float, float],
) -> Written:
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"dispatch-zone:{zone_id}"})
    now = clock.now()
    index = built.index
    zone = session.get(DispatchZone, zone_id)
    require_accept = bool(zone and zone.require_accept)
    offer_timeout = timedelta(seconds=zone.offer_timeout_s if zone else 45)
    planned = routes_of(plan, index)
    target = {o: c for c, stops in planned.items() for o in {s.order_id for s in stops}}
    on_shift = set(session.scalars(select(Courier.id).where(Courier.zone_id == zone_id, Courier.status.in_(ON_SHIFT))))

    rows = {o.order_id: o for o in index.orders.values()}
    orders = repo.lock_orders(session, sorted(rows))
    current = repo.assignments_for(session, list(orders))
    valid = {oid for oid, order in orders.items() if _still_ours(order.status, rows[oid].status)}
    assigned = moved = released = 0
    offered: list[tuple[uuid.UUID, uuid.UUID, datetime]] = []
    for oid in sorted(valid):
        order, row, a = orders[oid], rows[oid], current.get(oid)
        courier = target.get(oid)
        if courier is not None and courier not in on_shift:
            courier = None  # went offline while we were solving
        if courier is None:
            if a is not None and not a.pinned and order.status not in ON_BOARD:
                session.delete(a)
                current.pop(oid)
                released += 1
            continue
        if a is None or a.courier_id != courier:
            state = (
                AssignmentState.offered
                if require_accept and order.status not in ON_BOARD
                else AssignmentState.confirmed
            )
            expires = now + offer_timeout if state is AssignmentState.offered else None
            if a is None:
                a = OrderAssignment(order_id=oid, courier_id=courier, state=state, pod_policy=_pod_policy(row))
                session.add(a)
                current[oid] = a
                assigned += 1
            else:
                a.courier_id, a.state = courier, state
                moved += 1
            a.offer_expires_at, a.since = expires, now
            if expires is not None:
                offered.append((courier, oid, expires))
        if a.state is AssignmentState.confirmed and order.status is OrderStatus.packed:
            transition(session, order, OrderStatus.assigned, at=now, details={"courier_id": str(courier)})
    session.flush()
    owner = {oid: a.courier_id for oid, a in current.items() if oid in valid}
    _write_stops(session, planned, owner, rows, valid, plan, built, now)
    _expected_arrivals(session, planned, owner)
    for courier, oid, expires in offered:
        after_commit.to_courier(
            session, courier, {"type": "offer", "order_id": str(oid), "expires_at": expires.isoformat()}
        )
    run = _record(session, zone_id, built, plan, explanations, policy, timings, now, (assigned, moved, released))
    session.flush()
    return Written(run.id, run.orders, assigned, moved, run.unassigned)


def _still_ours(now_status: OrderStatus, read_status: OrderStatus) -> bool:
    if now_status is read_status:
        return True
    return now_status in _STORE_STATES and read_status in _STORE_STATES


def _pod_policy(row: OrderRow) -> PodPolicy:
    return PodPolicy.pin if row.total_minor >= get_dispatch_settings().pin_threshold_minor else PodPolicy.any


def _write_stops(
    session: Session,
    planned: dict[uuid.UUID, list[PlannedStop]],
    owner: dict[uuid.UUID, uuid.UUID],
    rows: dict[uuid.UUID, OrderRow],
    valid: set[uuid.UUID],
    plan: Plan,
    built: Built,
    now: datetime,
) -> None:
    """Stops are updated in place (ids stay), created for new work, deleted when work moved away."""
    couriers = set(planned) | set(owner.values())
    existing = repo.open_stops_of_couriers(session, couriers)
    wanted = {
        (c, s.order_id, s.kind): (seq, s)
        for c, stops in planned.items()
        for seq, s in enumerate([s for s in stops if owner.get(s.order_id) == c and s.order_id in valid], 1)
    }
    before: dict[uuid.UUID, list[tuple[uuid.UUID, StopKind]]] = {}
    keep: dict[tuple[uuid.UUID, uuid.UUID, StopKind], RouteStop] = {}
    for stop in existing:
        before.setdefault(stop.courier_id, []).append((stop.order_id, stop.kind))
        key = (stop.courier_id, stop.order_id, stop.kind)
        if key in wanted:
            keep[key] = stop
        elif stop.order_id in valid or stop.order_id not in rows:
            session.delete(stop)
    session.flush()
    routes = {
        r.courier_id: r
        for r in session.scalars(
            select(CourierRoute)
            .join(Courier, Courier.id == CourierRoute.courier_id)
            .where(
                CourierRoute.courier_id.in_(couriers),
                CourierRoute.shift_id.in_(
                    select(Shift.id).where(Shift.courier_id.in_(couriers), Shift.status == ShiftStatus.active)
                ),
            )
        )
    }
    for (courier, oid, kind), (seq, s) in wanted.items():
        route = routes.get(courier)
        if route is None:
            continue
        stop = keep.get((courier, oid, kind)) or _new_stop(route, courier, rows[oid], kind)
        session.add(stop)
        stop.seq, stop.planned_arrival_at, stop.planned_departure_at = seq, s.arrival, s.departure
    session.flush()
    by_vehicle = {r.vehicle_id: r for r in plan.routes}
    statuses = dict(session.execute(select(Courier.id, Courier.status).where(Courier.id.in_(couriers))).all())
    for courier, route in routes.items():
        after = [(o, k) for (c, o, k), _ in sorted(wanted.items(), key=lambda kv: kv[1][0]) if c == courier]
        solved = by_vehicle.get(str(courier))
        if solved is not None:
            route.travel_s, route.distance_m = solved.travel_s, solved.distance_m
        if after != before.get(courier, []):
            route.version += 1
            route.updated_at = now
            after_commit.to_courier(session, courier, {"type": "route", "version": route.version})
        status = statuses.get(courier)
        if status in ON_SHIFT:
            busy = CourierStatus.on_route if after else CourierStatus.available
            if status is not busy:
                session.execute(update(Courier).where(Courier.id == courier).values(status=busy))
    session.flush()


def _new_stop(route: CourierRoute, courier: uuid.UUID, row: OrderRow, kind: StopKind) -> RouteStop:
    at_store = kind in (StopKind.pickup, StopKind.return_)
    return RouteStop(
        route_id=route.id,
        courier_id=courier,
        order_id=row.order_id,
        kind=kind,
        seq=0,
        status=StopStatus.pending,
        location_id=row.location_id if at_store else None,
        lat=row.store_lat if at_store else row.dropoff_lat,
        lon=row.store_lon if at_store else row.dropoff_lon,
        address="" if at_store else row.address,
        note="" if at_store else row.note,
        items=row.items,
        bags=row.bags,
    )


def _expected_arrivals(
    session: Session, planned: dict[uuid.UUID, list[PlannedStop]], owner: dict[uuid.UUID, uuid.UUID]
) -> None:
    """Staff pick so that packing ends when the courier arrives: tell them when that is."""
    arrivals = [
        {"o": s.order_id, "at": s.arrival}
        for c, stops in planned.items()
        for s in stops
        if s.kind is StopKind.pickup and owner.get(s.order_id) == c
    ]
    if arrivals:
        session.execute(
            update(OrderFulfilment.__table__)  # type: ignore[arg-type]
            .where(OrderFulfilment.__table__.c.order_id == bindparam("o"))
            .values(courier_expected_at=bindparam("at")),
            arrivals,
        )


def _record(
    session: Session,
    zone_id: uuid.UUID,
    built: Built,
    plan: Plan,
    explanations: Sequence[Explanation],
    policy: str,
    timings: tuple[float, float, float],
    now: datetime,
    counts: tuple[int, int, int],
) -> DispatchRun:
    read_s, solve_s, write_started = timings
    lateness = sum(r.lateness_s for r in plan.routes)
    set_aside = built.index.set_aside
    run = DispatchRun(
        zone_id=zone_id,
        policy=policy,
        started_at=now - timedelta(seconds=read_s + solve_s),
        finished_at=now,
        orders=len(built.problem.shipments) + len(set_aside),
        couriers=len(built.problem.vehicles),
        read_s=round(read_s, 4),
        solve_s=round(solve_s, 4),
        write_s=0.0,
        objective=plan.cost.total,
        travel_s=sum(r.travel_s for r in plan.routes),
        lateness_s=lateness,
        assigned=counts[0],
        moved=counts[1],
        unassigned=len(plan.unassigned) + len(set_aside),
        stats={
            "backend": plan.stats.backend,
            "status": plan.stats.status,
            "strategy": plan.stats.strategy,
            "warm_start": plan.stats.warm_start,
            "released": counts[2],
            "cost": {
                "travel": plan.cost.travel,
                "lateness": plan.cost.lateness,
                "reassignment": plan.cost.reassignment,
            },
        },
    )
    session.add(run)
    session.flush()
    rows = [
        {
            "id": uuid.uuid4(),
            "run_id": run.id,
            "order_id": e.order_id,
            "courier_id": e.courier_id,
            "eta_at": built.index.at(e.eta_s) if e.eta_s is not None else None,
            "detour_s": e.detour_s,
            "decision": e.decision[:500],
            "details": e.details,
            "created_at": now,
        }
        for e in explanations
    ]
    rows += [
        {
            "id": uuid.uuid4(),
            "run_id": run.id,
            "order_id": oid,
            "courier_id": None,
            "eta_at": None,
            "detour_s": None,
            "decision": f"Not assigned: {why}.",
            "details": {"reason": why},
            "created_at": now,
        }
        for oid, why in set_aside.items()
    ]
    if rows:
        session.execute(insert(DispatchExplanation), rows)
    run.write_s = round(time.perf_counter() - write_started, 4)
    return run
