"""Order use cases after checkout: read (owner only), cancel, and the courier-side moves.

A customer sees only their own orders: anyone else's id is a 404, never a 403, so ids cannot be
probed. Every change locks the order row first (then stock levels, in level order), so a
cancellation racing a picker or a courier is decided by whoever locks first.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from dispatch import after_commit, payments, stock_moves, views
from dispatch import fleet_repository as fleet_repo
from dispatch import repository as repo
from dispatch.errors import OrderNotFound
from dispatch.fleet_models import Courier
from dispatch.models import FulfilmentStatus, Order, OrderStatus, SubstituteState
from dispatch.pins import delivery_pin
from dispatch.schemas import MAX_PAGE, OrderOut, OrderPage
from dispatch.states import require_move, transition
from warehouse import reservations

# The moves couriers and dispatch make (the dispatch issue drives them); the others have
# their own use cases (picking, packing, cancelling).
COURIER_MOVES = frozenset(
    {
        OrderStatus.assigned,
        OrderStatus.picked_up,
        OrderStatus.delivered,
        OrderStatus.failed_delivery,
        OrderStatus.returned,
    }
)
# A courier is on the way with (or for) the order: the customer will need the PIN at the door.
PIN_VISIBLE = frozenset({OrderStatus.assigned, OrderStatus.picked_up})


def locked(session: Session, *, order_id: uuid.UUID, customer_id: uuid.UUID | None = None) -> Order:
    """The order row locked for a change; `customer_id` given: only if it is theirs (else 404)."""
    order = repo.lock_order(session, order_id)
    if order is None or (customer_id is not None and order.customer_id != customer_id):
        raise OrderNotFound("No such order.", order_id=str(order_id))
    return order


def get_for_customer(session: Session, *, customer_id: uuid.UUID, order_id: uuid.UUID) -> OrderOut:
    order = repo.get_order(session, order_id)
    if order is None or order.customer_id != customer_id:
        raise OrderNotFound("No such order.", order_id=str(order_id))
    view = views.load(session, order)
    if order.status in PIN_VISIBLE:
        # Only here, for the customer: couriers and staff must never see it, or it proves nothing.
        view = view.model_copy(update={"delivery_pin": delivery_pin(order.id)})
    return view


def list_for_customer(session: Session, *, customer_id: uuid.UUID, limit: int = 20, offset: int = 0) -> OrderPage:
    """Newest first."""
    if not 1 <= limit <= MAX_PAGE or not 0 <= offset <= 1_000_000:
        raise ValueError("limit 1–100, offset 0–1,000,000")
    rows, total = repo.customer_orders(session, customer_id=customer_id, limit=limit, offset=offset)
    return OrderPage(items=[views.summary(o) for o in rows], total=total, limit=limit, offset=offset)


def cancel(
    session: Session,
    *,
    order_id: uuid.UUID,
    customer_id: uuid.UUID | None = None,
    reason: str = "",
    actor_id: uuid.UUID | None = None,
) -> OrderOut:
    """Cancel until a courier has picked the order up: held stock is released, anything already
    picked goes back on the shelf (a `return` ledger line), the payment hold is voided.
    Later (or twice) is a 409 `invalid_transition`."""
    order = locked(session, order_id=order_id, customer_id=customer_id)
    require_move(order, OrderStatus.cancelled)
    fulfilments = repo.fulfilments_of(session, [order.id])
    lines = repo.lines_of(session, [order.id])
    location_of = {f.id: f.location_id for f in fulfilments}
    back: list[stock_moves.Item] = []
    pairs = set()
    for line in lines:
        location = location_of[line.fulfilment_id]
        pairs.add((location, line.sku_id))
        if line.picked_qty:
            back.append((location, line.sku_id, line.picked_qty))
        if line.substitute_sku_id is not None and line.substitute_qty is not None:
            pairs.add((location, line.substitute_sku_id))
            if line.substitute_state is SubstituteState.approved:
                back.append((location, line.substitute_sku_id, line.substitute_qty))
            elif line.substitute_state is SubstituteState.proposed:
                line.substitute_state = SubstituteState.rejected  # its hold goes with the others
    note = f"order {order.id} cancelled"
    stock_moves.lock_levels(session, pairs)
    reservations.release(session, holder_id=order.id, reason=note, actor_id=actor_id)
    stock_moves.return_to_shelf(session, items=back, reason=note, ref_id=order.id, actor_id=actor_id)
    for fulfilment in fulfilments:
        fulfilment.status = FulfilmentStatus.cancelled
    payments.release(session, order)
    _take_off_courier(session, order)
    order.cancel_reason = reason or None
    by = "customer" if customer_id is not None else "operator"
    transition(session, order, OrderStatus.cancelled, actor_id=actor_id, details={"reason": reason, "by": by})
    session.flush()
    return views.load(session, order)


def _take_off_courier(session: Session, order: Order) -> None:
    """A cancelled order leaves its courier's plan at once: its assignment (or offer) and its open
    stops go, the courier's app is told to read the route again and the zone re-plans. Left to
    the next cycle, which plans only open orders, the assignment stayed for good and counted as
    goods on board: the courier could never end the shift."""
    assignment = fleet_repo.lock_assignment(session, order.id)
    if assignment is None:
        return
    courier_id = assignment.courier_id
    session.delete(assignment)
    fleet_repo.delete_open_stops(session, [order.id])
    after_commit.to_courier(session, courier_id, {"type": "order_cancelled", "order_id": str(order.id)})
    courier = session.get(Courier, courier_id)
    if courier is not None:
        after_commit.request_cycle(session, courier.zone_id)


def advance(session: Session, *, order_id: uuid.UUID, to: OrderStatus, actor_id: uuid.UUID | None = None) -> Order:
    """A courier-side move (assigned, picked up, delivered, failed delivery, returned). Delivery
    captures the payment — exactly once, as the state machine delivers an order once and the
    provider refuses a second capture of one authorization."""
    order = locked(session, order_id=order_id)
    advance_locked(session, order, to=to, actor_id=actor_id)
    session.flush()
    return order


def advance_locked(session: Session, order: Order, *, to: OrderStatus, actor_id: uuid.UUID | None = None) -> None:
    """`advance` for an order the caller has already locked (a courier's stop event locks it
    first, with the stop): no second locking read. Does not flush; the caller does."""
    if to not in COURIER_MOVES:
        raise ValueError(f"{to.value} is reached through its own use case, not advance()")
    require_move(order, to)
    if to is OrderStatus.delivered:
        payments.capture(session, order)
    if to is OrderStatus.returned:
        _take_back(session, order, actor_id=actor_id)
    transition(session, order, to, actor_id=actor_id)


def _take_back(session: Session, order: Order, *, actor_id: uuid.UUID | None) -> None:
    """Goods handed back at the store after a failed delivery: everything that left the shelf
    (picked units and approved substitutes) goes back on it with a `return` ledger line, and the
    payment hold is voided, as nothing was delivered (capture happens only on delivery)."""
    location_of = {f.id: f.location_id for f in repo.fulfilments_of(session, [order.id])}
    back: list[stock_moves.Item] = []
    for line in repo.lines_of(session, [order.id]):
        location = location_of[line.fulfilment_id]
        if line.picked_qty:
            back.append((location, line.sku_id, line.picked_qty))
        if line.substitute_state is SubstituteState.approved and line.substitute_sku_id and line.substitute_qty:
            back.append((location, line.substitute_sku_id, line.substitute_qty))
    stock_moves.lock_levels(session, {(location, sku) for location, sku, _qty in back})
    note = f"order {order.id} returned after a failed delivery"
    stock_moves.return_to_shelf(session, items=back, reason=note, ref_id=order.id, actor_id=actor_id)
    payments.release(session, order)
