"""`/ops/...` for dispatchers and admins: dispatch zones, vehicles, couriers and planned shifts;
dispatch runs and explanations; manual assignment and taking a courier offline."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from core.auth.models import Role
from core.auth.tokens import Principal
from core.http.deps import DbSession, allow
from dispatch import couriers, runs, shifts
from dispatch.fleet_schemas import (
    MAX_PAGE,
    AssignIn,
    CourierIn,
    CourierOut,
    CourierPage,
    ExplanationOut,
    OfflineIn,
    OfflineOut,
    RunPage,
    ShiftIn,
    ShiftOut,
    VehicleIn,
    VehicleOut,
    ZoneIn,
    ZoneOut,
)

router = APIRouter(prefix="/ops", tags=["ops: dispatch"])
Operator = Annotated[Principal, Depends(allow(Role.dispatcher, Role.admin))]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]


@router.post("/dispatch-zones", status_code=status.HTTP_201_CREATED)
def create_zone(body: ZoneIn, session: DbSession, _: Operator) -> ZoneOut:
    """A zone groups stores whose orders one solver run plans, with the couriers working there."""
    return couriers.create_zone(session, data=body)


@router.post("/vehicles", status_code=status.HTTP_201_CREATED)
def create_vehicle(body: VehicleIn, session: DbSession, _: Operator) -> VehicleOut:
    return couriers.create_vehicle(session, data=body)


@router.post("/couriers", status_code=status.HTTP_201_CREATED)
def create_courier(body: CourierIn, session: DbSession, _: Operator) -> CourierOut:
    """A courier account (role courier) working in one zone."""
    return couriers.create_courier(session, data=body)


@router.get("/couriers")
def list_couriers(
    session: DbSession, _: Operator, zone_id: uuid.UUID | None = None, flagged: bool = False, limit: Limit = 100
) -> CourierPage:
    """`flagged=true`: couriers who went offline with goods on board."""
    return CourierPage(items=couriers.list_couriers(session, zone_id=zone_id, flagged_only=flagged, limit=limit))


@router.post("/shifts", status_code=status.HTTP_201_CREATED)
def plan_shift(body: ShiftIn, session: DbSession, _: Operator) -> ShiftOut:
    return shifts.plan_shift(session, data=body)


@router.post("/couriers/{courier_id}/offline")
def take_offline(courier_id: uuid.UUID, body: OfflineIn, session: DbSession, me: Operator) -> OfflineOut:
    """Bulk reassignment: orders not picked up go back to the next cycle; picked-up ones stay and
    the courier is flagged."""
    return couriers.take_offline(session, courier_id=courier_id, reason=body.reason, actor_id=me.user_id)


@router.get("/dispatch-runs")
def list_runs(session: DbSession, _: Operator, zone_id: uuid.UUID | None = None, limit: Limit = 20) -> RunPage:
    """Newest first."""
    return runs.list_runs(session, zone_id=zone_id, limit=limit)


@router.get("/orders/{order_id}/explanation")
def order_explanation(order_id: uuid.UUID, session: DbSession, _: Operator) -> ExplanationOut:
    return runs.explanation(session, order_id=order_id)


@router.post("/orders/{order_id}/assign", status_code=status.HTTP_204_NO_CONTENT)
def assign(order_id: uuid.UUID, body: AssignIn, session: DbSession, me: Operator) -> None:
    """Pin the order to this courier; the next cycle (started now) keeps it there."""
    couriers.pin_order(session, order_id=order_id, courier_id=body.courier, actor_id=me.user_id)
