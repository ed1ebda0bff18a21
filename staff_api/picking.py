"""`/staff/picklist` and `/staff/orders/...`: pick, substitute and pack at my location.

Staff see only their own location's part of an order; any other order is a 404.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from core.auth.models import Role
from core.auth.tokens import Principal
from core.errors import Forbidden
from core.http.deps import DbSession, allow
from dispatch import picking
from dispatch.schemas import MAX_LINES, MAX_PAGE, PackIn, PickLineIn, PickLinesIn, PickList, PickTicket

router = APIRouter(prefix="/staff", tags=["staff: picking"])

Staff = Annotated[Principal, Depends(allow(Role.staff))]
LineNo = Annotated[int, Path(ge=1, le=MAX_LINES)]


def _my_location(principal: Principal) -> uuid.UUID:
    if principal.location_id is None:
        raise Forbidden("Your account is not assigned to a location.", code="no_location")
    return principal.location_id


@router.get("/picklist")
def get_pick_list(
    session: DbSession, principal: Staff, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50
) -> PickList:
    """Orders to pick here, the courier expected soonest first; lines in pick-path order."""
    return picking.pick_list(session, location_id=_my_location(principal), limit=limit)


@router.post("/orders/{order_id}/accept")
def accept_order(order_id: uuid.UUID, session: DbSession, principal: Staff) -> PickTicket:
    return picking.accept(session, order_id=order_id, location_id=_my_location(principal), actor_id=principal.user_id)


@router.post("/orders/{order_id}/start-picking")
def start_picking(order_id: uuid.UUID, session: DbSession, principal: Staff) -> PickTicket:
    return picking.start_picking(
        session, order_id=order_id, location_id=_my_location(principal), actor_id=principal.user_id
    )


@router.post("/orders/{order_id}/lines/{line_no}/pick")
def pick_line(
    order_id: uuid.UUID, line_no: LineNo, body: PickLineIn, session: DbSession, principal: Staff
) -> PickTicket:
    """`picked` below the ordered quantity is a short pick; a `substitute` follows the customer's
    choice (allowed at once, proposed to the customer, or refused when they asked for a refund)."""
    return picking.pick_line(
        session,
        order_id=order_id,
        line_no=line_no,
        location_id=_my_location(principal),
        data=body,
        actor_id=principal.user_id,
    )


@router.post("/orders/{order_id}/lines/pick")
def pick_lines(order_id: uuid.UUID, body: PickLinesIn, session: DbSession, principal: Staff) -> PickTicket:
    """A whole basket at once: each line as in `/lines/{line_no}/pick`, every line checked before
    anything is written (one bad line refuses the call: nothing picked); a line reported twice
    is a 422 `duplicate_line`."""
    return picking.pick_lines(
        session,
        order_id=order_id,
        location_id=_my_location(principal),
        picks=body.lines,
        actor_id=principal.user_id,
    )


@router.post("/orders/{order_id}/pack")
def pack_order(order_id: uuid.UUID, body: PackIn, session: DbSession, principal: Staff) -> PickTicket:
    """Close the bags: the order is `packed` (ready for its courier) once every location packed."""
    return picking.pack(
        session, order_id=order_id, location_id=_my_location(principal), data=body, actor_id=principal.user_id
    )
