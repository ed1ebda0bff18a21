"""The order state machine: which moves are legal, one timestamp per state, one event per move.

    placed → accepted → picking → packed → assigned → picked_up → delivered → returned
    any state before picked_up → cancelled;  picked_up → failed_delivery → returned
    assigned → packed: the dispatch cycle's plan no longer has a courier for it (back in the pool)

Every transition stamps the new state's `<state>_at` column and writes an outbox event
`order.<state>` in the same transaction, so notifications, tracking and webhooks (later issues)
see exactly the committed history, each move once. After commit, each move is also a `status`
frame on the order's tracking channel (docs/tracking.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from core import clock, events
from dispatch import after_commit, tracking
from dispatch.errors import InvalidTransition
from dispatch.models import Order, OrderStatus

S = OrderStatus

TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    S.placed: frozenset({S.accepted, S.cancelled}),
    S.accepted: frozenset({S.picking, S.cancelled}),
    S.picking: frozenset({S.packed, S.cancelled}),
    S.packed: frozenset({S.assigned, S.cancelled}),
    S.assigned: frozenset({S.picked_up, S.packed, S.cancelled}),
    S.picked_up: frozenset({S.delivered, S.failed_delivery}),
    S.delivered: frozenset({S.returned}),
    S.failed_delivery: frozenset({S.returned}),
    S.cancelled: frozenset(),
    S.returned: frozenset(),
}

# Until a courier has the goods, the customer may still change their mind.
CANCELLABLE = frozenset(s for s, nexts in TRANSITIONS.items() if S.cancelled in nexts)
TERMINAL = frozenset(s for s, nexts in TRANSITIONS.items() if not nexts)
TIMESTAMP = {status: f"{status.value}_at" for status in OrderStatus}


def can_move(current: OrderStatus, to: OrderStatus) -> bool:
    return to in TRANSITIONS[current]


def require_move(order: Order, to: OrderStatus) -> None:
    if not can_move(order.status, to):
        allowed = sorted(s.value for s in TRANSITIONS[order.status])
        raise InvalidTransition(
            f"An order that is {order.status.value} cannot become {to.value}.",
            order_id=str(order.id),
            current=order.status.value,
            requested=to.value,
            allowed=allowed,
        )


def transition(
    session: Session,
    order: Order,
    to: OrderStatus,
    *,
    at: datetime | None = None,
    actor_id: uuid.UUID | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Move `order` to `to` (the caller holds the order row locked) or raise `InvalidTransition`
    (409). Stamps `<to>_at` and emits `order.<to>`.

    Writes nothing by itself: the order's UPDATE and its outbox row go out with the caller's next
    flush (every use case flushes before it returns), in one round trip with the rest of its
    changes rather than one flush per move."""
    require_move(order, to)
    when = at or clock.now()
    previous = order.status
    order.status = to
    setattr(order, TIMESTAMP[to], when)
    emit_order_event(session, order, to, previous=previous, at=when, actor_id=actor_id, details=details)
    after_commit.to_order(session, order.id, tracking.status_frame(order.id, to, when))


def transition_many(
    session: Session,
    orders: Sequence[Order],
    to: OrderStatus,
    *,
    at: datetime | None = None,
    details: Mapping[uuid.UUID, Mapping[str, Any]] | None = None,
) -> None:
    """`transition` for many orders at once (the caller holds their rows locked): one UPDATE now,
    and one outbox event per order (as `transition` writes) added to the session, so the next
    flush inserts them with the transaction's other events in one multi-row INSERT, in emission
    order. All moves are checked before anything is written; never commits.
    """
    if not orders:
        return
    for order in orders:
        require_move(order, to)
    when = at or clock.now()
    details = details or {}
    topic = f"order.{to.value}"
    outbox = [
        events.OutboxEvent(
            topic=topic,
            payload=_payload(order, to, previous=order.status, at=when, actor_id=None, details=details.get(order.id)),
            created_at=when,
        )
        for order in orders
    ]
    # ORM-enabled UPDATE: the session's loaded Order objects get the new status and stamp too.
    # It autoflushes what was pending first, so the events added below follow the earlier ones.
    session.execute(
        update(Order)
        .where(Order.id.in_([o.id for o in orders]))
        .values({"status": to, TIMESTAMP[to]: when})
        .execution_options(synchronize_session="fetch")
    )
    session.add_all(outbox)
    for order in orders:
        after_commit.to_order(session, order.id, tracking.status_frame(order.id, to, when))


def emit_order_event(
    session: Session,
    order: Order,
    state: OrderStatus,
    *,
    previous: OrderStatus | None,
    at: datetime,
    actor_id: uuid.UUID | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    session.add(order_event(order, state, previous=previous, at=at, actor_id=actor_id, details=details))


def order_event(
    order: Order,
    state: OrderStatus,
    *,
    previous: OrderStatus | None,
    at: datetime,
    actor_id: uuid.UUID | None = None,
    details: Mapping[str, Any] | None = None,
) -> events.OutboxEvent:
    """The `order.<state>` outbox row, not added to any session (the checkout inserts it with
    the order's own rows, in the same pipelined round trip)."""
    return events.new(f"order.{state.value}", _payload(order, state, previous, at, actor_id, details))


def _payload(
    order: Order,
    state: OrderStatus,
    previous: OrderStatus | None,
    at: datetime,
    actor_id: uuid.UUID | None,
    details: Mapping[str, Any] | None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "order_id": str(order.id),
        "customer_id": str(order.customer_id),
        "status": state.value,
        "previous": previous.value if previous else None,
        "at": at.isoformat(),
        "actor_id": str(actor_id) if actor_id else None,
    }
    if details:
        payload.update(details)
    return payload
