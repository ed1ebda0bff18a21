"""`/staff/transfers`: staff of a location see what is coming to it and book arrivals.

Only transfers *to the caller's own location* exist for them: anything else is a 404, so staff
cannot probe other locations' deliveries.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from core.auth.models import Role
from core.auth.tokens import Principal
from core.errors import Forbidden
from core.http.deps import DbSession, allow
from warehouse import transfer_queries, transfers
from warehouse.models import TransferStatus
from warehouse.transfer_schemas import MAX_PAGE, ReceiptIn, TransferOut, TransferPage

router = APIRouter(prefix="/staff", tags=["staff: transfers"])

Staff = Annotated[Principal, Depends(allow(Role.staff))]
INCOMING = (TransferStatus.planned, TransferStatus.in_transit)


def _my_location(principal: Principal) -> uuid.UUID:
    # The database guarantees staff have a location; a token without one is not usable here.
    if principal.location_id is None:
        raise Forbidden("Your account is not assigned to a location.", code="no_location")
    return principal.location_id


@router.get("/transfers")
def list_incoming_transfers(
    session: DbSession,
    principal: Staff,
    status_: Annotated[list[TransferStatus] | None, Query(alias="status", max_length=len(TransferStatus))] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> TransferPage:
    """Transfers to my location; by default those still to arrive (planned and in transit)."""
    return transfer_queries.list_transfers(
        session,
        statuses=status_ or INCOMING,
        to_location_id=_my_location(principal),
        limit=limit,
        offset=offset,
    )


@router.get("/transfers/{transfer_id}")
def get_incoming_transfer(transfer_id: uuid.UUID, session: DbSession, principal: Staff) -> TransferOut:
    return transfer_queries.get_transfer(
        session, transfer_id=transfer_id, receiving_location_id=_my_location(principal)
    )


@router.post("/transfers/{transfer_id}/receive")
def receive_transfer(transfer_id: uuid.UUID, body: ReceiptIn, session: DbSession, principal: Staff) -> TransferOut:
    """Book an arrival with the quantity counted for every line. Counting less than was sent is
    allowed (the difference is recorded as lost in transit); counting more is a 422."""
    transfer = transfers.receive_transfer(
        session,
        transfer_id=transfer_id,
        lines=body.lines,
        receiving_location_id=_my_location(principal),
        actor_id=principal.user_id,
    )
    return transfer_queries.describe(session, transfer)
