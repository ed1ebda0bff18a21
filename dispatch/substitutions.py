"""Substitutes: a picker takes another SKU off the shelf for a line that came up short; the
customer's policy allows it at once, refunds instead, or asks them (`contact`), and their answer
(or packing without one) settles it. Also the order's reprice after any line changes.

Stock follows the substitute as it does the line: reserved when taken from the shelf, committed
once allowed or approved, released when rejected.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from core import events
from dispatch import orders, stock_moves, views
from dispatch import repository as repo
from dispatch.errors import (
    LineNotFound,
    MixedCurrencies,
    NoSubstitutionPending,
    QuantityOverMax,
    SubstitutionNotAllowed,
    UnknownSku,
)
from dispatch.models import Order, OrderLine, SubstituteState, SubstitutionPolicy
from dispatch.repository import PickCatalogue
from dispatch.schemas import LinePickIn, OrderOut
from warehouse import reservations
from warehouse.models import Sku


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
    settle(session, order, line, approve=approve, actor_id=customer_id)
    reprice(order, repo.lines_of(session, [order.id]))
    session.flush()
    return views.load(session, order)


def substitute_skus(
    session: Session, order: Order, found: Sequence[tuple[OrderLine, LinePickIn]], catalogue: PickCatalogue
) -> dict[uuid.UUID, Sku]:
    """The substitutes' SKUs (one query, only if some line has one), each checked against its line."""
    wanted = {pick.substitute.sku_id for _, pick in found if pick.substitute is not None}
    if not wanted:
        return {}
    skus = repo.skus_by_id(session, wanted)
    for line, pick in found:
        if pick.substitute is None:
            continue
        sku = skus.get(pick.substitute.sku_id)
        if sku is None or not sku.active:
            raise UnknownSku("Unknown substitute SKU.", skus=[str(pick.substitute.sku_id)])
        if sku.id == line.sku_id:
            raise SubstitutionNotAllowed("A substitute is a different SKU.")
        if sku.currency != order.currency:
            raise MixedCurrencies("The substitute is priced in another currency.")
        if pick.substitute.qty > sku.max_order_qty:
            raise QuantityOverMax("Too many of the substitute.", lines=[{"sku": sku.code, "max": sku.max_order_qty}])
    return skus


def propose(
    session: Session,
    order: Order,
    location_id: uuid.UUID,
    line: OrderLine,
    sku: Sku,
    pick: LinePickIn,
    actor_id: uuid.UUID,
) -> None:
    """Hold the substitute taken from the shelf; allowed at once or proposed to the customer."""
    assert pick.substitute is not None
    (held,) = reservations.reserve(
        session,
        location_id=location_id,
        lines=[(sku.id, pick.substitute.qty)],
        holder_id=order.id,
        indefinite=True,
        actor_id=actor_id,
        reason=f"{line_note(order, line)} substitute",
    )
    line.substitute_sku_id = sku.id
    line.substitute_qty = pick.substitute.qty
    line.substitute_reservation_id = held.id
    line.substitute_state = SubstituteState.proposed
    # The customer never pays more than the missing units would have cost: the payment
    # authorized at checkout must cover whatever delivery captures.
    line.substitute_amount_minor = min(
        sku.price_minor * pick.substitute.qty, (line.qty - pick.picked) * line.unit_price_minor
    )
    if order.substitution is SubstitutionPolicy.allow:
        settle(session, order, line, approve=True, actor_id=actor_id)
    else:
        events.emit(session, "order.substitution_proposed", _line_event(order, line))


def line_note(order: Order, line: OrderLine) -> str:
    return f"order {order.id} line {line.line_no}"


def settle(
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


def reprice(order: Order, lines: Sequence[OrderLine]) -> None:
    """The order owes the sum of its lines as they stand (`lines`: all of them, as loaded and
    changed by the caller), plus the delivery fee fixed at checkout. Lines only ever get cheaper
    than at checkout, so the total stays within the authorization."""
    order.subtotal_minor = sum(line.amount_minor for line in lines)
    order.total_minor = order.subtotal_minor + order.delivery_fee_minor
