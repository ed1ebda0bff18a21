"""The write half of a dispatch cycle: assignments, order states, the run and explanations (the
stops are `dispatch.cycle_stops`).

Runs in one transaction that first takes the zone's advisory lock (a second guard behind the Redis
lock, in case that expired during an overlong solve) and locks the planned orders in id order.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, insert, select, text
from sqlalchemy.orm import Session

from core import clock
from dispatch import after_commit
from dispatch import fleet_repository as repo
from dispatch.config import get_dispatch_settings
from dispatch.cycle_bulk import insert_rows, update_rows
from dispatch.cycle_read import OrderRow
from dispatch.cycle_stops import expected_arrivals, write_stops
from dispatch.dispatch_explain import Explanation
from dispatch.fleet_models import ON_SHIFT, Courier, DispatchZone
from dispatch.models import OrderStatus
from dispatch.problem import Built, routes_of
from dispatch.repository import orders_by_id
from dispatch.route_models import (
    AssignmentState,
    DispatchExplanation,
    DispatchRun,
    OrderAssignment,
    PodPolicy,
    StopKind,
    StopStatus,
)
from dispatch.states import transition_many
from routing import Plan

ON_BOARD = (OrderStatus.picked_up, OrderStatus.failed_delivery)
_OFFLINE = "its courier went off shift while the plan was being made"
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
    # The zone's offer settings and who is on shift now, in one statement.
    zone_rows = session.execute(
        select(DispatchZone.require_accept, DispatchZone.offer_timeout_s, Courier.id)
        .select_from(DispatchZone)
        .outerjoin(Courier, and_(Courier.zone_id == DispatchZone.id, Courier.status.in_(ON_SHIFT)))
        .where(DispatchZone.id == zone_id)
    ).all()
    require_accept = bool(zone_rows and zone_rows[0][0])
    offer_timeout = timedelta(seconds=zone_rows[0][1] if zone_rows else 45)
    on_shift = {r[2] for r in zone_rows if r[2] is not None}
    planned = routes_of(plan, index)
    target = {o: c for c, stops in planned.items() for o in {s.order_id for s in stops}}

    rows = {o.order_id: o for o in index.orders.values()}
    # Only the statuses: the few orders whose state moves are loaded afterwards (building an
    # Order object for every order of the zone was a fifth of the write at 400 couriers).
    statuses = repo.lock_order_statuses(session, sorted(rows))
    current = {
        r.order_id: (r.courier_id, r.state, r.pinned)
        for r in session.execute(
            select(
                OrderAssignment.order_id, OrderAssignment.courier_id, OrderAssignment.state, OrderAssignment.pinned
            ).where(OrderAssignment.order_id.in_(list(statuses)))
        )
    }
    valid = {oid for oid, status in statuses.items() if _still_ours(status, rows[oid].status)}
    offered: list[tuple[uuid.UUID, uuid.UUID, datetime]] = []
    moving: list[uuid.UUID] = []
    moving_details: dict[uuid.UUID, dict[str, str]] = {}
    owner: dict[uuid.UUID, uuid.UUID] = {}
    released: list[uuid.UUID] = []
    released_from: set[uuid.UUID] = set()
    dropped: list[uuid.UUID] = []
    dropped_details: dict[uuid.UUID, dict[str, str]] = {}
    overridden: dict[uuid.UUID, str] = {}  # explained as assigned, but the courier is gone
    at_store = {
        s.order_id: c.courier_id
        for c in index.couriers.values()
        for s in c.stops
        if s.kind is StopKind.pickup and s.status is StopStatus.arrived
    }
    unassigned_why = {
        e.order_id: str(e.details.get("reason", "not planned")) for e in explanations if e.courier_id is None
    }
    new_rows: list[dict[str, object]] = []
    moved_rows: list[dict[str, object]] = []
    for oid in sorted(valid):
        status, row, a = statuses[oid], rows[oid], current.get(oid)
        courier = target.get(oid)
        went_offline = courier is not None and courier not in on_shift
        if went_offline:
            courier = None  # went offline while we were solving
        if courier is None:
            carrying = status in ON_BOARD or any(p.on_board for p in row.pickups)
            if a is not None and (a[2] or carrying or at_store.get(oid) == a[0]):
                # Pinned by an operator, goods on board, or the courier is at the store for it:
                # never taken away, even when the plan could not fit it (its stops stay).
                owner[oid] = a[0]
                continue
            if went_offline:
                overridden[oid] = _OFFLINE
            if a is not None:
                released.append(oid)
                released_from.add(a[0])
            if status is OrderStatus.assigned and not carrying:
                # Nobody carries it any more: back in the pool, saying why (an `assigned` order
                # without an assignment would be re-read every cycle and carried by no one).
                why = _OFFLINE if went_offline else unassigned_why.get(oid, "not planned")
                dropped.append(oid)
                dropped_details[oid] = {"reason": why}
            continue
        state = a[1] if a is not None else AssignmentState.confirmed
        if a is None or a[0] != courier:
            offer = require_accept and status not in ON_BOARD
            state = AssignmentState.offered if offer else AssignmentState.confirmed
            expires = now + offer_timeout if offer else None
            values = {"courier_id": courier, "state": state, "offer_expires_at": expires, "since": now}
            if a is None:
                new_rows.append(
                    {"order_id": oid, "pod_policy": _pod_policy(row), "pinned": False, "attempts": 0, **values}
                )
            else:
                moved_rows.append({"order_id": oid, **values})
            if expires is not None:
                offered.append((courier, oid, expires))
        owner[oid] = courier
        if state is AssignmentState.confirmed and status is OrderStatus.packed:
            moving.append(oid)
            moving_details[oid] = {"courier_id": str(courier)}
    _write_assignments(session, released, new_rows, moved_rows)
    # One UPDATE and one multi-row event INSERT for all packed → assigned moves (a flush per
    # order was most of the write time at 1,000 orders).
    loaded = orders_by_id(session, [*moving, *dropped])  # locked above
    transition_many(session, [loaded[o] for o in moving], OrderStatus.assigned, at=now, details=moving_details)
    transition_many(session, [loaded[o] for o in dropped], OrderStatus.packed, at=now, details=dropped_details)
    assigned, moved = len(new_rows), len(moved_rows)
    write_stops(session, planned, owner, rows, valid, plan, now, released_from=released_from)
    expected_arrivals(session, planned, owner)
    for courier, oid, expires in offered:
        after_commit.to_courier(
            session, courier, {"type": "offer", "order_id": str(oid), "expires_at": expires.isoformat()}
        )
    if overridden:
        explanations = [
            Explanation(
                e.order_id,
                None,
                None,
                None,
                f"Not assigned: {overridden[e.order_id]}.",
                {"reason": overridden[e.order_id]},
            )
            if e.order_id in overridden
            else e
            for e in explanations
        ]
    run_id, orders_count, unassigned = _record(
        session, zone_id, built, plan, explanations, policy, timings, now, (assigned, moved, len(released))
    )
    session.flush()
    return Written(run_id, orders_count, assigned, moved, unassigned)


def _write_assignments(
    session: Session,
    released: list[uuid.UUID],
    new_rows: list[dict[str, object]],
    moved_rows: list[dict[str, object]],
) -> None:
    """One DELETE, one INSERT and one UPDATE, whatever the zone's size."""
    table = OrderAssignment.__table__
    if released:
        session.execute(delete(table).where(table.c.order_id.in_(released)))  # type: ignore[arg-type]
    insert_rows(session, table, new_rows)  # type: ignore[arg-type]
    update_rows(
        session,
        table,  # type: ignore[arg-type]
        moved_rows,
        keys=["order_id"],
        values=["courier_id", "state", "offer_expires_at", "since"],
    )
    if released or moved_rows:
        # Assignment objects a caller loaded in this session must not keep the old courier.
        for obj in list(session.identity_map.values()):
            if isinstance(obj, OrderAssignment):
                session.expire(obj)


def _still_ours(now_status: OrderStatus, read_status: OrderStatus) -> bool:
    if now_status is read_status:
        return True
    return now_status in _STORE_STATES and read_status in _STORE_STATES


def _pod_policy(row: OrderRow) -> PodPolicy:
    return PodPolicy.pin if row.total_minor >= get_dispatch_settings().pin_threshold_minor else PodPolicy.any


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
) -> tuple[uuid.UUID, int, int]:
    """The run and its explanations in two INSERTs: (run id, orders, unassigned).

    The run's id is made here, so the explanations need not wait for a flush to learn it; its
    `write_s` ends where the recording starts (an ORM flush, then an UPDATE for `write_s`, cost
    two more round trips every cycle)."""
    read_s, solve_s, write_started = timings
    run_id = uuid.uuid4()
    orders = len(built.problem.shipments)
    unassigned = len(plan.unassigned)
    rows = [
        {
            "id": uuid.uuid4(),
            "run_id": run_id,
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
    run = {
        "id": run_id,
        "zone_id": zone_id,
        "policy": policy,
        "started_at": now - timedelta(seconds=read_s + solve_s),
        "finished_at": now,
        "orders": orders,
        "couriers": len(built.problem.vehicles),
        "read_s": round(read_s, 4),
        "solve_s": round(solve_s, 4),
        "write_s": round(time.perf_counter() - write_started, 4),
        "objective": plan.cost.total,
        "travel_s": sum(r.travel_s for r in plan.routes),
        "lateness_s": sum(r.lateness_s for r in plan.routes),
        "assigned": counts[0],
        "moved": counts[1],
        "unassigned": unassigned,
        "stats": {
            "backend": plan.stats.backend,
            "status": plan.stats.status,
            "strategy": plan.stats.strategy,
            "warm_start": plan.stats.warm_start,
            "iterations": plan.stats.iterations,
            "solutions": plan.stats.solutions,
            "released": counts[2],
            "cost": {
                "travel": plan.cost.travel,
                "lateness": plan.cost.lateness,
                "reassignment": plan.cost.reassignment,
            },
        },
    }
    session.execute(insert(DispatchRun.__table__), run)  # type: ignore[arg-type]
    if rows:
        insert_rows(session, DispatchExplanation.__table__, rows)  # type: ignore[arg-type]
    return run_id, orders, unassigned
