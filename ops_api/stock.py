"""`/ops/.../stock`, `/ops/ledger`, `/ops/reservations`: dispatchers and admins see stock anywhere
in the network (every tier, with what is on the road), read any ledger, set the stock policy that
drives replenishment, and place or release holds by hand."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from core.auth.models import Role
from core.auth.tokens import Principal
from core.http.deps import DbSession, allow
from warehouse import holds, reservations, stock
from warehouse.models import MovementKind, ReservationStatus
from warehouse.schemas import (
    MAX_OFFSET,
    MAX_PAGE,
    HoldIn,
    HoldOut,
    LedgerPage,
    LevelOut,
    LevelPage,
    PolicyIn,
    ReleaseIn,
    ReservationOut,
    ReservationPage,
    SkuStockOut,
)

router = APIRouter(prefix="/ops", tags=["ops: stock"])

Operator = Annotated[Principal, Depends(allow(Role.dispatcher, Role.admin))]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


@router.get("/skus/{sku_id}/stock")
def sku_stock(sku_id: uuid.UUID, session: DbSession, _: Operator, limit: Limit = 50, offset: Offset = 0) -> SkuStockOut:
    """One SKU across the network: totals, per tier, and per location (a page), in transit included."""
    return stock.sku_network(session, sku_id=sku_id, limit=limit, offset=offset)


@router.get("/locations/{location_id}/stock")
def location_stock(
    location_id: uuid.UUID,
    session: DbSession,
    _: Operator,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    low_only: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> LevelPage:
    return stock.location_levels(
        session, location_id=location_id, query=q, low_only=low_only, limit=limit, offset=offset
    )


@router.put("/locations/{location_id}/stock/{sku_id}/policy")
def set_policy(location_id: uuid.UUID, sku_id: uuid.UUID, body: PolicyIn, session: DbSession, _: Operator) -> LevelOut:
    """Range the SKU here and set its reorder point and target level (0/0 = not ranged).
    A shelf already at or below the new reorder point is replenished at once."""
    return stock.set_policy(
        session,
        location_id=location_id,
        sku_id=sku_id,
        reorder_point=body.reorder_point,
        target_level=body.target_level,
        bin=body.bin,
    )


@router.get("/ledger")
def ledger(
    session: DbSession,
    _: Operator,
    location_id: uuid.UUID | None = None,
    sku_id: uuid.UUID | None = None,
    kind: Annotated[list[MovementKind] | None, Query(max_length=len(MovementKind))] = None,
    before: Annotated[int | None, Query(ge=1, description="`next_cursor` of the previous page")] = None,
    limit: Limit = 50,
) -> LedgerPage:
    """Stock movements of any location and/or SKU, newest first."""
    return stock.ledger(session, location_id=location_id, sku_id=sku_id, kinds=kind or (), before=before, limit=limit)


@router.get("/reservations")
def list_reservations(
    session: DbSession,
    _: Operator,
    location_id: uuid.UUID | None = None,
    sku_id: uuid.UUID | None = None,
    holder_id: uuid.UUID | None = None,
    status_: Annotated[list[ReservationStatus] | None, Query(alias="status", max_length=len(ReservationStatus))] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ReservationPage:
    return holds.list_reservations(
        session,
        location_id=location_id,
        sku_id=sku_id,
        holder_id=holder_id,
        statuses=status_ or (),
        limit=limit,
        offset=offset,
    )


@router.post("/locations/{location_id}/holds", status_code=status.HTTP_201_CREATED)
def place_hold(location_id: uuid.UUID, body: HoldIn, session: DbSession, principal: Operator) -> HoldOut:
    """Hold stock by hand, all lines or none (409 `insufficient_stock` with per-line availability)."""
    return holds.place_hold(
        session,
        location_id=location_id,
        lines=[(line.sku_id, line.qty) for line in body.lines],
        ttl_s=body.ttl_s,
        reason=body.reason,
        actor_id=principal.user_id,
    )


@router.post("/reservations/release")
def release(body: ReleaseIn, session: DbSession, principal: Operator) -> list[ReservationOut]:
    """Release holds by ids or by holder; those already closed are skipped (idempotent)."""
    released = reservations.release(
        session,
        reservation_ids=body.reservation_ids,
        holder_id=body.holder_id,
        reason=body.reason,
        actor_id=principal.user_id,
    )
    return [ReservationOut.model_validate(r) for r in released]
