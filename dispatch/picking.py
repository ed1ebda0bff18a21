"""Pick and pack at the fulfilling location: the pick list, start, per-line picked / short with a
substitute, pack; and the customer's answer to a proposed substitute.

Staff act only on their own location's part of an order: for them any other order (or another
location's half of a split one) does not exist (404). Stock follows the goods: a picked line
commits its reservation (a `pick` ledger line), a short line releases the rest, a substitute is
reserved when taken from the shelf and committed once allowed or approved.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from core import clock, events
from core.errors import InvalidInput
from dispatch import after_commit, orders, stock_moves, views
from dispatch import repository as repo
from dispatch.errors import (
    InvalidTransition,
    LineAlreadyDone,
    LineNotFound,
    LinesOpen,
    MixedCurrencies,
    NoSubstitutionPending,
    OrderNotFound,
    PickingNotStarted,
    QuantityOverMax,
    SubstitutionNotAllowed,
    UnknownSku,
)
from dispatch.models import (
    FulfilmentStatus,
    LineState,
    Order,
    OrderFulfilment,
    OrderLine,
    OrderStatus,
    SubstituteState,
    SubstitutionPolicy,
)
from dispatch.pick_tickets import ticket, tickets
from dispatch.schemas import OrderOut, PackIn, PickLineIn, PickList, PickTicket
from dispatch.states import TERMINAL, require_move, transition
from warehouse import reservations
from warehouse.models import TemperatureClass


def pick_list(session: Session, *, location_id: uuid.UUID, limit: int = 50) -> PickList:
    """Open work at the location, the courier expected soonest first; lines in pick-path order."""
    fulfilments = repo.open_fulfilments(session, location_id=location_id, limit=limit)
    return PickList(location_id=location_id, items=tickets(session, location_id=location_id, fulfilments=fulfilments))


def _mine(session: Session, *, order_id: uuid.UUID, location_id: uuid.UUID) -> tuple[Order, OrderFulfilment]:
    order = repo.lock_order(session, order_id)
    fulfilment = repo.fulfilment_at(session, order_id=order_id, location_id=location_id) if order else None
    if order is None or fulfilment is None:
        raise OrderNotFound("No such order at your location.", order_id=str(order_id))
    return order, fulfilment


def accept(session: Session, *, order_id: uuid.UUID, location_id: uuid.UUID, actor_id: uuid.UUID) -> PickTicket:
    """The location takes the order on (already accepted by the other half of a split: no-op)."""
    order, fulfilment = _mine(session, order_id=order_id, location_id=location_id)
    if order.status is OrderStatus.placed:
        transition(session, order, OrderStatus.accepted, actor_id=actor_id, details={"location_id": str(location_id)})
    elif order.status in TERMINAL:
        require_move(order, OrderStatus.accepted)  # a cancelled order is not taken on: 409
    session.flush()
    return ticket(session, order, fulfilment)


def start_picking(session: Session, *, order_id: uuid.UUID, location_id: uuid.UUID, actor_id: uuid.UUID) -> PickTicket:
    order, fulfilment = _mine(session, order_id=order_id, location_id=location_id)
    if fulfilment.status is not FulfilmentStatus.pending:
        raise InvalidTransition(
            f"Picking cannot start: this part of the order is {fulfilment.status.value}.",
            current=fulfilment.status.value,
        )
    now = clock.now()
    if order.status is OrderStatus.placed:
        transition(session, order, OrderStatus.accepted, at=now, actor_id=actor_id)
    if order.status is not OrderStatus.picking:  # the other half of a split may have started it
        transition(session, order, OrderStatus.picking, at=now, actor_id=actor_id)
    fulfilment.status = FulfilmentStatus.picking
    fulfilment.picking_started_at = now
    session.flush()
    return ticket(session, order, fulfilment)


def pick_line(
    session: Session,
    *,
    order_id: uuid.UUID,
    line_no: int,
    location_id: uuid.UUID,
    data: PickLineIn,
    actor_id: uuid.UUID,
) -> PickTicket:
    order, fulfilment = _mine(session, order_id=order_id, location_id=location_id)
    line = _open_line(session, order, fulfilment, line_no)
    if data.picked > line.qty:
        raise InvalidInput("More picked than ordered.", code="picked_exceeds_qty", qty=line.qty, picked=data.picked)
    substitute = data.substitute
    sub_sku = None
    if substitute is not None:
        if data.picked == line.qty:
            raise SubstitutionNotAllowed("Nothing is missing from this line, so there is nothing to substitute.")
        if order.substitution is SubstitutionPolicy.refund:
            raise SubstitutionNotAllowed("The customer asked for missing items to be refunded, not substituted.")
        sub_sku = repo.skus_by_id(session, [substitute.sku_id]).get(substitute.sku_id)
        if sub_sku is None or not sub_sku.active:
            raise UnknownSku("Unknown substitute SKU.", skus=[str(substitute.sku_id)])
        if sub_sku.id == line.sku_id:
            raise SubstitutionNotAllowed("A substitute is a different SKU.")
        if sub_sku.currency != order.currency:
            raise MixedCurrencies("The substitute is priced in another currency.")
        if substitute.qty > sub_sku.max_order_qty:
            raise QuantityOverMax(
                "Too many of the substitute.", lines=[{"sku": sub_sku.code, "max": sub_sku.max_order_qty}]
            )
    pairs = {(fulfilment.location_id, line.sku_id)} | ({(fulfilment.location_id, sub_sku.id)} if sub_sku else set())
    stock_moves.lock_levels(session, pairs)
    note = f"order {order.id} line {line.line_no}"
    if line.reservation_id is not None:
        reservations.commit(
            session, reservation_id=line.reservation_id, qty=data.picked, reason=note, actor_id=actor_id
        )
    line.picked_qty = data.picked
    line.state = LineState.picked if data.picked == line.qty else LineState.short
    line.amount_minor = data.picked * line.unit_price_minor
    if substitute is not None and sub_sku is not None:
        (held,) = reservations.reserve(
            session,
            location_id=fulfilment.location_id,
            lines=[(sub_sku.id, substitute.qty)],
            holder_id=order.id,
            indefinite=True,
            actor_id=actor_id,
            reason=f"{note} substitute",
        )
        line.substitute_sku_id = sub_sku.id
        line.substitute_qty = substitute.qty
        line.substitute_reservation_id = held.id
        line.substitute_state = SubstituteState.proposed
        # The customer never pays more than the missing units would have cost: the payment
        # authorized at checkout must cover whatever delivery captures.
        line.substitute_amount_minor = min(
            sub_sku.price_minor * substitute.qty, (line.qty - data.picked) * line.unit_price_minor
        )
        if order.substitution is SubstitutionPolicy.allow:
            _settle_substitute(session, order, line, approve=True, actor_id=actor_id)
        else:
            events.emit(session, "order.substitution_proposed", _line_event(order, line))
    _reprice(session, order)
    session.flush()
    return ticket(session, order, fulfilment)


def pack(
    session: Session, *, order_id: uuid.UUID, location_id: uuid.UUID, data: PackIn, actor_id: uuid.UUID
) -> PickTicket:
    """Close the bag(s). Every line must be picked or shorted first; a substitute the customer
    has not answered by now counts as rejected (the line is refunded). When every location of
    the order has packed, the order is `packed` and ready for its courier."""
    order, fulfilment = _mine(session, order_id=order_id, location_id=location_id)
    _require_picking(fulfilment)
    lines = [line for line in repo.lines_of(session, [order.id]) if line.fulfilment_id == fulfilment.id]
    still_open = [line.line_no for line in lines if line.state is LineState.open]
    if still_open:
        raise LinesOpen("Pick or short every line before packing.", line_nos=still_open)
    pending = [line for line in lines if line.substitute_state is SubstituteState.proposed]
    if pending:
        stock_moves.lock_levels(
            session, {(fulfilment.location_id, line.substitute_sku_id) for line in pending if line.substitute_sku_id}
        )
    for line in pending:
        _settle_substitute(session, order, line, approve=False, actor_id=actor_id, why="unanswered when packed")
    _require_cold_chain(session, lines, data.cold_chain)
    now = clock.now()
    fulfilment.status = FulfilmentStatus.packed
    fulfilment.ready_at = now
    fulfilment.bags = data.bags
    fulfilment.cold_chain = data.cold_chain
    fulfilment.packed_by = actor_id
    _reprice(session, order)
    session.flush()
    parts = repo.fulfilments_of(session, [order.id])
    if all(part.status is FulfilmentStatus.packed for part in parts):
        if order.subtotal_minor == 0:
            # Nothing at all could be picked: there is nothing to deliver.
            orders.cancel(session, order_id=order.id, reason="nothing could be picked", actor_id=actor_id)
        else:
            ready = max(part.ready_at for part in parts if part.ready_at is not None)
            transition(
                session, order, OrderStatus.packed, at=now, actor_id=actor_id, details={"ready_at": ready.isoformat()}
            )
            after_commit.request_cycle_for_location(session, location_id)  # a courier for it now
    session.flush()
    return ticket(session, order, fulfilment)


def decide_substitution(
    session: Session, *, customer_id: uuid.UUID, order_id: uuid.UUID, line_no: int, approve: bool
) -> OrderOut:
    """The customer's answer to a proposed substitute (policy `contact`)."""
    order = orders.locked(session, order_id=order_id, customer_id=customer_id)
    line = repo.lock_line(session, order_id=order.id, line_no=line_no)
    if line is None:
        raise LineNotFound("No such line in this order.", line_no=line_no)
    if line.substitute_state is not SubstituteState.proposed or line.substitute_sku_id is None:
        raise NoSubstitutionPending("No substitute awaits your answer on this line.", line_no=line_no)
    location = next(f.location_id for f in repo.fulfilments_of(session, [order.id]) if f.id == line.fulfilment_id)
    stock_moves.lock_levels(session, {(location, line.substitute_sku_id)})
    _settle_substitute(session, order, line, approve=approve, actor_id=customer_id)
    _reprice(session, order)
    session.flush()
    return views.load(session, order)


# --- helpers -------------------------------------------------------------------------------------


def _require_picking(fulfilment: OrderFulfilment) -> None:
    if fulfilment.status is FulfilmentStatus.pending:
        raise PickingNotStarted("Start picking this order first.")
    if fulfilment.status is not FulfilmentStatus.picking:
        raise InvalidTransition(
            f"This part of the order is already {fulfilment.status.value}.", current=fulfilment.status.value
        )


def _open_line(session: Session, order: Order, fulfilment: OrderFulfilment, line_no: int) -> OrderLine:
    _require_picking(fulfilment)
    line = repo.lock_line(session, order_id=order.id, line_no=line_no)
    if line is None or line.fulfilment_id != fulfilment.id:
        raise LineNotFound("No such line to pick here.", line_no=line_no)
    if line.state is not LineState.open:
        raise LineAlreadyDone(f"Line {line_no} is already {line.state.value}.", line_no=line_no, state=line.state.value)
    return line


def _settle_substitute(
    session: Session, order: Order, line: OrderLine, *, approve: bool, actor_id: uuid.UUID, why: str = ""
) -> None:
    assert line.substitute_reservation_id is not None
    note = f"order {order.id} line {line.line_no} substitute"
    if approve:
        reservations.commit(session, reservation_id=line.substitute_reservation_id, reason=note, actor_id=actor_id)
        line.substitute_state = SubstituteState.approved
        line.amount_minor += line.substitute_amount_minor or 0
    else:
        reservations.release(
            session, reservation_ids=[line.substitute_reservation_id], reason=f"{note} rejected", actor_id=actor_id
        )
        line.substitute_state = SubstituteState.rejected
    topic = "order.substitution_approved" if approve else "order.substitution_rejected"
    events.emit(session, topic, {**_line_event(order, line), "why": why or None})


def _line_event(order: Order, line: OrderLine) -> dict[str, object]:
    return {
        "order_id": str(order.id),
        "customer_id": str(order.customer_id),
        "line_no": line.line_no,
        "sku_id": str(line.sku_id),
        "substitute_sku_id": str(line.substitute_sku_id),
        "substitute_qty": line.substitute_qty,
        "amount_minor": line.substitute_amount_minor,
    }


def _reprice(session: Session, order: Order) -> None:
    """The order owes the sum of its lines as they stand, plus the delivery fee fixed at checkout.
    Lines only ever get cheaper than at checkout, so the total stays within the authorization."""
    lines = repo.lines_of(session, [order.id])
    order.subtotal_minor = sum(line.amount_minor for line in lines)
    order.total_minor = order.subtotal_minor + order.delivery_fee_minor


def _require_cold_chain(session: Session, lines: Sequence[OrderLine], cold_chain: bool) -> None:
    bagged = {line.sku_id for line in lines if line.picked_qty}
    bagged |= {
        line.substitute_sku_id
        for line in lines
        if line.substitute_state is SubstituteState.approved and line.substitute_sku_id
    }
    cold = [
        sku.code for sku in repo.skus_by_id(session, bagged).values() if sku.temperature is not TemperatureClass.ambient
    ]
    if cold and not cold_chain:
        raise InvalidInput(
            "Chilled or frozen goods are in the bag: pack them cold.", code="cold_chain_required", skus=cold
        )
