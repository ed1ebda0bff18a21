"""The stops half of a dispatch cycle's write: each courier's route as stop rows, and when each
store should expect its courier.

Stops keep their ids across re-plans: they are keyed by courier, order, kind and store (a split
order has a pickup per store), updated in place when their sequence or times change, created for
new work and deleted when work moved away.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dispatch import after_commit
from dispatch.cycle_bulk import insert_rows, update_rows
from dispatch.cycle_read import OrderRow
from dispatch.fleet_models import ON_SHIFT, Courier, CourierStatus, Shift, ShiftStatus
from dispatch.models import OrderFulfilment
from dispatch.problem import PlannedStop
from dispatch.route_models import CourierRoute, RouteStop, StopKind, StopStatus
from routing import Plan

#: (courier, order, kind, store or None for a drop-off): what identifies a stop across re-plans.
StopKey = tuple[uuid.UUID, uuid.UUID, StopKind, uuid.UUID | None]


def write_stops(
    session: Session,
    planned: dict[uuid.UUID, list[PlannedStop]],
    owner: dict[uuid.UUID, uuid.UUID],
    rows: dict[uuid.UUID, OrderRow],
    valid: set[uuid.UUID],
    plan: Plan,
    now: datetime,
    released_from: Collection[uuid.UUID] = (),
) -> None:
    """Stops are updated in place (ids stay), created for new work, deleted when work moved away.

    Set-based: one DELETE, one INSERT, one UPDATE (`dispatch.cycle_bulk`) of only the stops whose
    sequence or times changed, and at most two courier-status UPDATEs — a fixed number of round
    trips whatever the zone's size (per-stop and per-courier statements dominated the cycle).
    `released_from`: couriers who lost orders this cycle; they may not be in the plan at all (off
    shift), but their stops for those orders must go too.
    """
    couriers = set(planned) | set(owner.values()) | set(released_from)
    wanted = {
        (c, s.order_id, s.kind, s.location_id): (seq, s)
        for c, stops in planned.items()
        for seq, s in enumerate([s for s in stops if owner.get(s.order_id) == c and s.order_id in valid], 1)
    }
    existing = (
        session.execute(
            select(
                RouteStop.id,
                RouteStop.courier_id,
                RouteStop.order_id,
                RouteStop.kind,
                RouteStop.location_id,
                RouteStop.seq,
                RouteStop.planned_arrival_at,
                RouteStop.planned_departure_at,
            )
            .where(RouteStop.courier_id.in_(couriers), RouteStop.status.in_((StopStatus.pending, StopStatus.arrived)))
            .order_by(RouteStop.courier_id, RouteStop.seq)
        ).all()
        if couriers
        else []
    )
    before: dict[uuid.UUID, list[tuple[uuid.UUID, StopKind, uuid.UUID | None]]] = {}
    keep: dict[StopKey, tuple[uuid.UUID, int, datetime | None, datetime | None]] = {}
    gone: list[uuid.UUID] = []
    # Work a courier keeps (pinned, on board, at the store) that the plan left out (it no longer
    # fits, e.g. past the shift's end): its stops stay as they are, after the planned ones.
    in_plan = {(c, s.order_id) for c, stops in planned.items() for s in stops}
    held: dict[uuid.UUID, list[tuple[uuid.UUID, StopKey, int, datetime | None, datetime | None]]] = {}
    for stop_id, courier, oid, kind, location, seq, arrival, departure in existing:
        before.setdefault(courier, []).append((oid, kind, location))
        if (courier, oid, kind, location) in wanted:
            keep[(courier, oid, kind, location)] = (stop_id, seq, arrival, departure)
        elif owner.get(oid) == courier and (courier, oid) not in in_plan:
            held.setdefault(courier, []).append((stop_id, (courier, oid, kind, location), seq, arrival, departure))
        elif oid in valid or oid not in rows:
            gone.append(stop_id)
    if gone:
        # Before the INSERT: an order's open stop of one kind is unique (uq_route_stops_open).
        session.execute(delete(RouteStop).where(RouteStop.id.in_(gone)).execution_options(synchronize_session="fetch"))
    # Each courier's route on the active shift, with the courier's status: one statement.
    routes = {
        r.courier_id: r
        for r in session.execute(
            select(
                CourierRoute.id,
                CourierRoute.courier_id,
                CourierRoute.version,
                CourierRoute.travel_s,
                CourierRoute.distance_m,
                CourierRoute.updated_at,
                Courier.status,
            )
            .join(Courier, Courier.id == CourierRoute.courier_id)
            .where(
                CourierRoute.courier_id.in_(couriers),
                CourierRoute.shift_id.in_(
                    select(Shift.id).where(Shift.courier_id.in_(couriers), Shift.status == ShiftStatus.active)
                ),
            )
        )
    }
    new_rows: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    after: dict[uuid.UUID, list[tuple[int, uuid.UUID, StopKind, uuid.UUID | None]]] = {}
    for key, (seq, s) in wanted.items():
        courier, oid, kind, location = key
        route = routes.get(courier)
        if route is None:
            continue
        after.setdefault(courier, []).append((seq, oid, kind, location))
        old = keep.get(key)
        if old is None:
            new_rows.append(_new_stop(route.id, courier, rows[oid], seq, s))
        elif old[1:] != (seq, s.arrival, s.departure):
            changed.append(
                {"id": old[0], "seq": seq, "planned_arrival_at": s.arrival, "planned_departure_at": s.departure}
            )
    for courier, stops in held.items():
        if routes.get(courier) is None:
            continue
        last = len([k for k in wanted if k[0] == courier])
        for n, (stop_id, (_, oid, kind, location), old_seq, arrival, departure) in enumerate(stops, last + 1):
            after.setdefault(courier, []).append((n, oid, kind, location))
            if n != old_seq:
                changed.append(
                    {"id": stop_id, "seq": n, "planned_arrival_at": arrival, "planned_departure_at": departure}
                )
    table = RouteStop.__table__
    update_rows(
        session,
        table,  # type: ignore[arg-type]
        changed,
        keys=["id"],
        values=["seq", "planned_arrival_at", "planned_departure_at"],
    )
    insert_rows(session, table, new_rows)  # type: ignore[arg-type]
    if changed:
        # Stop objects loaded earlier in the same session (a caller's, not this cycle's) must not
        # keep the old seq and times; nothing else is expired, routes are still used below.
        for obj in list(session.identity_map.values()):
            if isinstance(obj, RouteStop):
                session.expire(obj)
    by_vehicle = {r.vehicle_id: r for r in plan.routes}
    become: dict[CourierStatus, list[uuid.UUID]] = {}
    route_rows: list[dict[str, object]] = []
    for courier, route in routes.items():
        sequence = [(o, k, loc) for _, o, k, loc in sorted(after.get(courier, []), key=lambda t: t[0])]
        solved = by_vehicle.get(str(courier))
        travel = (solved.travel_s, solved.distance_m) if solved is not None else (route.travel_s, route.distance_m)
        version, updated_at = route.version, route.updated_at
        if sequence != before.get(courier, []):
            version, updated_at = version + 1, now
            after_commit.to_courier(session, courier, {"type": "route", "version": version})
        if (version, *travel) != (route.version, route.travel_s, route.distance_m):
            # Only routes that changed are written (most keep their plan from one cycle to the next).
            route_rows.append(
                {
                    "id": route.id,
                    "version": version,
                    "travel_s": travel[0],
                    "distance_m": travel[1],
                    "updated_at": updated_at,
                }
            )
        if route.status in ON_SHIFT:
            busy = CourierStatus.on_route if sequence else CourierStatus.available
            if route.status is not busy:
                become.setdefault(busy, []).append(courier)
    update_rows(
        session,
        CourierRoute.__table__,  # type: ignore[arg-type]
        route_rows,
        keys=["id"],
        values=["version", "travel_s", "distance_m", "updated_at"],
    )
    if route_rows:
        # As for stops: route objects a caller loaded must not keep the old version.
        for obj in list(session.identity_map.values()):
            if isinstance(obj, CourierRoute):
                session.expire(obj)
    for status, ids in become.items():
        session.execute(update(Courier).where(Courier.id.in_(ids)).values(status=status))
    session.flush()


def _new_stop(route_id: uuid.UUID, courier: uuid.UUID, row: OrderRow, seq: int, s: PlannedStop) -> dict[str, object]:
    at_store = s.kind in (StopKind.pickup, StopKind.return_)
    # A store stop handles one part (its bags); the door gets them all.
    part = row.pickup_at(s.location_id)
    return {
        "id": uuid.uuid4(),
        "route_id": route_id,
        "courier_id": courier,
        "order_id": row.order_id,
        "kind": s.kind,
        "seq": seq,
        "status": StopStatus.pending,
        "location_id": s.location_id if at_store else None,
        "lat": part.store_lat if at_store else row.dropoff_lat,
        "lon": part.store_lon if at_store else row.dropoff_lon,
        "address": "" if at_store else row.address,
        "note": "" if at_store else row.note,
        "items": part.items if at_store else row.items,
        "bags": part.bags if at_store else row.bags,
        "planned_arrival_at": s.arrival,
        "planned_departure_at": s.departure,
    }


def expected_arrivals(
    session: Session, planned: dict[uuid.UUID, list[PlannedStop]], owner: dict[uuid.UUID, uuid.UUID]
) -> None:
    """Staff pick so that packing ends when the courier arrives: tell them when that is."""
    arrivals = [
        {"order_id": s.order_id, "location_id": s.location_id, "courier_expected_at": s.arrival}
        for c, stops in planned.items()
        for s in stops
        if s.kind is StopKind.pickup and owner.get(s.order_id) == c
    ]
    update_rows(
        session,
        OrderFulfilment.__table__,  # type: ignore[arg-type]
        arrivals,
        keys=["order_id", "location_id"],
        values=["courier_expected_at"],
    )
