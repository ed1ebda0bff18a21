"""`/staff/locations/{location_id}/stock`: store staff look after their own shelves — see stock,
book deliveries in, adjust with a reason, count, write off, read the ledger.

Staff act for one location (their token says which). Any other location id is a 404, exactly
as if it did not exist, so staff cannot probe other stores' stock.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from core.auth.models import Role
from core.auth.tokens import Principal
from core.http.deps import DbSession, allow
from warehouse import stock
from warehouse.models import MovementKind
from warehouse.schemas import (
    MAX_OFFSET,
    MAX_PAGE,
    AdjustmentIn,
    CountIn,
    LedgerPage,
    LevelOut,
    LevelPage,
    ReceiptIn,
    StockChangeOut,
    WriteOffIn,
)
from warehouse.stock_errors import LocationNotFound

router = APIRouter(prefix="/staff/locations/{location_id}", tags=["staff: stock"])

Staff = Annotated[Principal, Depends(allow(Role.staff))]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


def _mine(principal: Principal, location_id: uuid.UUID) -> uuid.UUID:
    if principal.location_id is None or principal.location_id != location_id:
        raise LocationNotFound("No such location.", location_id=str(location_id))
    return location_id


@router.get("/stock")
def list_stock(
    location_id: uuid.UUID,
    session: DbSession,
    principal: Staff,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="Part of a SKU code or name")] = None,
    low_only: Annotated[bool, Query(description="Only SKUs at or below their reorder point")] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> LevelPage:
    """Everything this location stocks or has on its way, by SKU code."""
    return stock.location_levels(
        session, location_id=_mine(principal, location_id), query=q, low_only=low_only, limit=limit, offset=offset
    )


@router.get("/stock/{sku_id}")
def get_stock(location_id: uuid.UUID, sku_id: uuid.UUID, session: DbSession, principal: Staff) -> LevelOut:
    return stock.get_level(session, location_id=_mine(principal, location_id), sku_id=sku_id)


@router.post("/stock/receipts", status_code=status.HTTP_201_CREATED)
def receive(location_id: uuid.UUID, body: ReceiptIn, session: DbSession, principal: Staff) -> list[LevelOut]:
    """Book a supplier delivery in (transfers from our own network are received on the transfer)."""
    return stock.receive(
        session,
        location_id=_mine(principal, location_id),
        lines=[(line.sku_id, line.qty) for line in body.lines],
        reference=body.reference,
        actor_id=principal.user_id,
    )


@router.post("/stock/{sku_id}/adjustments")
def adjust(
    location_id: uuid.UUID, sku_id: uuid.UUID, body: AdjustmentIn, session: DbSession, principal: Staff
) -> StockChangeOut:
    """Correct on_hand by `delta` with a reason. Units held for orders cannot be adjusted away."""
    return stock.adjust(
        session,
        location_id=_mine(principal, location_id),
        sku_id=sku_id,
        delta=body.delta,
        reason=body.reason,
        actor_id=principal.user_id,
    )


@router.post("/stock/{sku_id}/counts")
def count(
    location_id: uuid.UUID, sku_id: uuid.UUID, body: CountIn, session: DbSession, principal: Staff
) -> StockChangeOut:
    """Set on_hand to what is on the shelf; the difference goes into the ledger as an adjustment."""
    return stock.count(
        session,
        location_id=_mine(principal, location_id),
        sku_id=sku_id,
        counted=body.counted,
        reason=body.reason,
        actor_id=principal.user_id,
    )


@router.post("/stock/{sku_id}/write-offs")
def write_off(
    location_id: uuid.UUID, sku_id: uuid.UUID, body: WriteOffIn, session: DbSession, principal: Staff
) -> StockChangeOut:
    """Take damaged, expired or lost units off the books, with a reason."""
    return stock.write_off(
        session,
        location_id=_mine(principal, location_id),
        sku_id=sku_id,
        qty=body.qty,
        reason=body.reason,
        actor_id=principal.user_id,
    )


@router.get("/ledger")
def ledger(
    location_id: uuid.UUID,
    session: DbSession,
    principal: Staff,
    sku_id: uuid.UUID | None = None,
    kind: Annotated[list[MovementKind] | None, Query(max_length=len(MovementKind))] = None,
    before: Annotated[int | None, Query(ge=1, description="`next_cursor` of the previous page")] = None,
    limit: Limit = 50,
) -> LedgerPage:
    """This location's stock movements, newest first."""
    return stock.ledger(
        session, location_id=_mine(principal, location_id), sku_id=sku_id, kinds=kind or (), before=before, limit=limit
    )
