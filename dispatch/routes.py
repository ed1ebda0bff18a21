"""A courier's own route as their app shows it: open stops in order with planned times, address,
items and notes of their own stops only (no phone numbers, nothing of other couriers)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from dispatch import fleet_repository as repo
from dispatch.fleet_errors import NotACourier, StopNotFound
from dispatch.fleet_schemas import RouteOut, StopOut
from dispatch.route_models import AssignmentState, OrderAssignment, RouteStop, StopKind
from dispatch.shifts import NO_COURIER, courier_for


def my_route(session: Session, *, user_id: uuid.UUID) -> RouteOut:
    # Read at every step of every courier (the app polls it, the simulation asks before each
    # stop), so the courier, route version, stops and offers come in one statement.
    view = repo.route_view(session, user_id)
    if view is None:
        raise NotACourier(NO_COURIER)
    out = [
        StopOut(
            **{name: row[name] for name in repo.ROUTE_STOP_FIELDS},
            offer=AssignmentState.confirmed if row["offer"] is None else row["offer"],
            pod_policy=row["pod_policy"] if row["offer"] is not None and row["kind"] is StopKind.dropoff else None,
        )
        for row in view.stops
    ]
    return RouteOut(courier_id=view.courier_id, version=view.version or 0, status=view.courier_status, stops=out)


def stop_out(session: Session, *, user_id: uuid.UUID, stop_id: uuid.UUID) -> StopOut:
    courier = courier_for(session, user_id)
    stop = session.get(RouteStop, stop_id)
    if stop is None or stop.courier_id != courier.id:
        raise StopNotFound("No such stop on your route.", stop_id=str(stop_id))
    return _out(stop, repo.assignments_for(session, [stop.order_id]).get(stop.order_id))


def _out(s: RouteStop, a: OrderAssignment | None) -> StopOut:
    return StopOut(
        id=s.id,
        seq=s.seq,
        kind=s.kind,
        status=s.status,
        order_id=s.order_id,
        lat=s.lat,
        lon=s.lon,
        address=s.address,
        note=s.note,
        items=s.items,
        bags=s.bags,
        planned_arrival_at=s.planned_arrival_at,
        planned_departure_at=s.planned_departure_at,
        arrived_at=s.arrived_at,
        completed_at=s.completed_at,
        offer=a.state if a else AssignmentState.confirmed,
        pod_policy=a.pod_policy if a and s.kind is StopKind.dropoff else None,
    )
