"""The order state machine: which moves are legal, one timestamp per state, one event per move.

    placed → accepted → picking → packed → assigned → picked_up → delivered → returned
    any state before picked_up → cancelled;  picked_up → failed_delivery → returned

Every transition stamps the new state's `<state>_at` column and writes an outbox event
`order.<state>` in the same transaction, so notifications, tracking and webhooks (later issues)
see exactly the committed history, each move once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core import clock, events
from dispatch.errors import InvalidTransition
from dispatch.models import Order, OrderStatus

S = OrderStatus

TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    S.placed: frozenset({S.accepted, S.cancelled}),
    S.accepted: frozenset({S.picking, S.cancelled}),
    S.picking: frozenset({S.packed, S.cancelled}),
    S.packed: frozenset({S.assigned, S.cancelled}),
    S.assigned: frozenset({S.picked_up, S.cancelled}),
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
    (409). Stamps `<to>_at` and emits `order.<to>`; flushes, never commits."""
    require_move(order, to)
    when = at or clock.now()
    previous = order.status
    order.status = to
    setattr(order, TIMESTAMP[to], when)
    emit_order_event(session, order, to, previous=previous, at=when, actor_id=actor_id, details=details)


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
    events.emit(session, f"order.{state.value}", payload)
