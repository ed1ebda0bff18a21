"""`/courier/...`: a courier's own shift, route, stops, offers and position pings.

Only couriers may call these (customers and everyone else get 403); within them, a courier sees
and acts on their own stops only — another courier's stop is a 404.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from core.auth.models import Role
from core.auth.tokens import Principal
from core.http.deps import DbSession, allow
from dispatch import offers, pings, routes, shifts, stop_events, vehicles
from dispatch.fleet_schemas import (
    BreakIn,
    DeliveredIn,
    FailedIn,
    PickedUpIn,
    PingBatchIn,
    PingResult,
    RouteOut,
    ShiftOut,
    ShiftStartIn,
    StopOut,
)

router = APIRouter(prefix="/courier", tags=["courier app"])
CourierUser = Annotated[Principal, Depends(allow(Role.courier))]


@router.get("/vehicles")
def free_vehicles(session: DbSession, me: CourierUser) -> list[vehicles.FreeVehicleOut]:
    """The vehicles of your dispatch zone you may start a shift on: active and not ridden by
    another courier on shift; the one planned for your shift first (`planned`)."""
    return vehicles.free_vehicles(session, user_id=me.user_id)


@router.post("/shift/start")
def start_shift(body: ShiftStartIn, session: DbSession, me: CourierUser) -> ShiftOut:
    """Start the planned shift on a vehicle of your zone; dispatch plans you in at once."""
    return shifts.start_shift(session, user_id=me.user_id, vehicle_id=body.vehicle)


@router.post("/shift/end")
def end_shift(session: DbSession, me: CourierUser) -> ShiftOut:
    """End the shift; orders not picked up go to other couriers. Refused (409) with goods on board."""
    return shifts.end_shift(session, user_id=me.user_id)


@router.post("/shift/break")
def take_break(body: BreakIn, session: DbSession, me: CourierUser) -> ShiftOut:
    return shifts.set_break(session, user_id=me.user_id, on=body.on)


@router.get("/route")
def get_route(session: DbSession, me: CourierUser) -> RouteOut:
    return routes.my_route(session, user_id=me.user_id)


@router.post("/pings")
def post_pings(body: PingBatchIn, session: DbSession, me: CourierUser) -> PingResult:
    """A batch of fixes (e.g. after a dead zone); each is sanity-checked, the result counts them."""
    return pings.record(session, user_id=me.user_id, pings=body.pings)


def _stop(session: DbSession, me: Principal, stop_id: uuid.UUID) -> StopOut:
    route = routes.my_route(session, user_id=me.user_id)
    found = next((s for s in route.stops if s.id == stop_id), None)
    if found is not None:
        return found
    # A finished stop is no longer on the route; describe it from the row (it is the caller's).
    return routes.stop_out(session, user_id=me.user_id, stop_id=stop_id)


@router.post("/stops/{stop_id}/arrive")
def arrive(stop_id: uuid.UUID, session: DbSession, me: CourierUser) -> StopOut:
    stop_events.arrive(session, user_id=me.user_id, stop_id=stop_id)
    return _stop(session, me, stop_id)


@router.post("/stops/{stop_id}/picked-up")
def picked_up(stop_id: uuid.UUID, body: PickedUpIn, session: DbSession, me: CourierUser) -> StopOut:
    """Every bag the store packed for this order; a different count is a 422 `bag_count_mismatch`."""
    stop_events.picked_up(session, user_id=me.user_id, stop_id=stop_id, bags=body.bags)
    return _stop(session, me, stop_id)


@router.post("/stops/{stop_id}/delivered")
def delivered(stop_id: uuid.UUID, body: DeliveredIn, session: DbSession, me: CourierUser) -> StopOut:
    """Proof of delivery per the order's policy: the customer's PIN, or a photo hash or signature."""
    stop_events.delivered(session, user_id=me.user_id, stop_id=stop_id, proof=body)
    return _stop(session, me, stop_id)


@router.post("/stops/{stop_id}/failed")
def failed(stop_id: uuid.UUID, body: FailedIn, session: DbSession, me: CourierUser) -> StopOut:
    """Customer absent: another attempt later; refused / address not found: back to the store."""
    stop_events.failed(session, user_id=me.user_id, stop_id=stop_id, reason=body.reason, note=body.note)
    return _stop(session, me, stop_id)


@router.post("/offers/{order_id}/accept", status_code=204)
def accept_offer(order_id: uuid.UUID, session: DbSession, me: CourierUser) -> None:
    offers.accept(session, user_id=me.user_id, order_id=order_id)


@router.post("/offers/{order_id}/decline", status_code=204)
def decline_offer(order_id: uuid.UUID, session: DbSession, me: CourierUser) -> None:
    offers.decline(session, user_id=me.user_id, order_id=order_id)
