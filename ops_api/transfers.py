"""`/ops/transfers` and `/ops/stock-alerts`: dispatchers and admins watch and steer stock moving
through the network — list and inspect transfers, plan a manual one, send it on its way or cancel
it before it leaves, and see where the shelves are empty or the network cannot refill them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from core.auth.models import Role
from core.auth.tokens import Principal
from core.http.deps import DbSession, allow
from warehouse import alerts, transfer_queries, transfers
from warehouse.models import AlertKind, TransferStatus
from warehouse.transfer_schemas import MAX_PAGE, StockAlertPage, TransferCreate, TransferOut, TransferPage

router = APIRouter(prefix="/ops", tags=["ops: transfers"])

Operator = Annotated[Principal, Depends(allow(Role.dispatcher, Role.admin))]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/transfers")
def list_transfers(
    session: DbSession,
    _: Operator,
    status_: Annotated[list[TransferStatus] | None, Query(alias="status", max_length=len(TransferStatus))] = None,
    from_location_id: uuid.UUID | None = None,
    to_location_id: uuid.UUID | None = None,
    short_only: Annotated[bool, Query(description="Only received transfers with units lost in transit")] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> TransferPage:
    """Newest first. Repeat `status` to combine several."""
    return transfer_queries.list_transfers(
        session,
        statuses=status_ or (),
        from_location_id=from_location_id,
        to_location_id=to_location_id,
        short_only=short_only,
        limit=limit,
        offset=offset,
    )


@router.get("/transfers/{transfer_id}")
def get_transfer(transfer_id: uuid.UUID, session: DbSession, _: Operator) -> TransferOut:
    return transfer_queries.get_transfer(session, transfer_id=transfer_id)


@router.post("/transfers", status_code=status.HTTP_201_CREATED)
def create_transfer(body: TransferCreate, session: DbSession, principal: Operator) -> TransferOut:
    """Plan a manual transfer; its units are reserved at the source at once."""
    transfer = transfers.create_transfer(
        session,
        from_location_id=body.from_location_id,
        to_location_id=body.to_location_id,
        lines=body.lines,
        actor_id=principal.user_id,
    )
    return transfer_queries.describe(session, transfer)


@router.post("/transfers/{transfer_id}/dispatch")
def dispatch_transfer(transfer_id: uuid.UUID, session: DbSession, principal: Operator) -> TransferOut:
    """planned → in_transit: the units leave the source now."""
    transfer = transfers.dispatch_transfer(session, transfer_id=transfer_id, actor_id=principal.user_id)
    return transfer_queries.describe(session, transfer)


@router.post("/transfers/{transfer_id}/cancel")
def cancel_transfer(transfer_id: uuid.UUID, session: DbSession, principal: Operator) -> TransferOut:
    """planned → cancelled: the source's reservation is released."""
    transfer = transfers.cancel_transfer(session, transfer_id=transfer_id, actor_id=principal.user_id)
    return transfer_queries.describe(session, transfer)


@router.get("/stock-alerts")
def list_stock_alerts(
    session: DbSession,
    _: Operator,
    kind: Annotated[list[AlertKind] | None, Query(max_length=len(AlertKind))] = None,
    location_id: uuid.UUID | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> StockAlertPage:
    """Open alerts, newest first: stock-outs and replenishment the parent cannot fill."""
    return alerts.list_open_alerts(session, kinds=kind or (), location_id=location_id, limit=limit, offset=offset)
