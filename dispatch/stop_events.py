"""What a courier reports at a stop: arrived, picked up (with the bag count), delivered (with
proof of delivery) or failed (with a reason). Each moves the order's state machine, which writes
the outbox events.

A courier acts only on their own stops: anyone else's stop id is a 404. Every event locks the
order row first, then the stop (the dispatch cycle locks orders first too), so a re-plan and a
courier's tap never deadlock.

A split order has a pickup stop per store: it becomes `picked_up` with the last part on board.

Failure policy: a customer who is absent gets another attempt (not before `RETRY_AFTER`) until
`max_attempts`; a refusal, an address that cannot be found, or the last failed attempt make the
order `failed_delivery`, and the next cycle routes the goods back to the store, where handing
them over makes it `returned`.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from core import clock, events
from dispatch import after_commit, orders
from dispatch import fleet_repository as repo
from dispatch.config import get_dispatch_settings
from dispatch.fleet_errors import (
    BagCountMismatch,
    OfferNotFound,
    ProofRequired,
    StopNotFound,
    StopOutOfOrder,
    WrongPin,
)
from dispatch.fleet_schemas import DeliveredIn, FailureReason
from dispatch.models import FulfilmentStatus, Order, OrderStatus
from dispatch.pins import delivery_pin
from dispatch.route_models import AssignmentState, OrderAssignment, PodPolicy, RouteStop, StopKind, StopStatus
from dispatch.shifts import courier_for

RETRY_AFTER = timedelta(minutes=10)
FINAL_FAILURES = frozenset({"refused", "address_not_found"})


@dataclass(frozen=True, slots=True)
class _Locked:
    """A stop of the courier's, locked with its order: the stop, the order's assignment, and the
    courier's id and zone."""

    stop: RouteStop
    assignment: OrderAssignment
    courier_id: uuid.UUID
    zone_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class _Mine(_Locked):
    """`_Locked` with the order itself, loaded (for the events that move it)."""

    order: Order


def _mine(session: Session, user_id: uuid.UUID, stop_id: uuid.UUID) -> _Mine:
    order, locked = _lock(session, user_id, stop_id, load_order=True)
    assert order is not None
    return _Mine(locked.stop, locked.assignment, locked.courier_id, locked.zone_id, order)


def _lock(
    session: Session, user_id: uuid.UUID, stop_id: uuid.UUID, *, load_order: bool
) -> tuple[Order | None, _Locked]:
    # Two locking reads: the order (found through the user's courier and the stop), then the
    # stop with the assignment. Who the courier is comes with the first one; only when nothing
    # is found is it asked on its own, so that a user with no courier profile is told so.
    found = repo.lock_order_at_users_stop(session, stop_id=stop_id, user_id=user_id, load=load_order)
    locked = repo.lock_stop_and_assignment(session, stop_id) if found is not None else None
    if found is None or locked is None:
        courier_for(session, user_id)
        raise StopNotFound("No such stop on your route.", stop_id=str(stop_id))
    order, courier_id, zone_id = found
    stop, assignment = locked
    if stop.courier_id != courier_id or assignment.courier_id != courier_id:
        raise StopNotFound("No such stop on your route.", stop_id=str(stop_id))
    if stop.status not in (StopStatus.pending, StopStatus.arrived):
        raise StopOutOfOrder(f"This stop is already {stop.status.value}.", status=stop.status.value)
    return order, _Locked(stop, assignment, courier_id, zone_id)


def _event(session: Session, topic: str, stop: RouteStop, **extra: object) -> None:
    payload = {"stop_id": str(stop.id), "order_id": str(stop.order_id), "courier_id": str(stop.courier_id)}
    events.emit(session, topic, {**payload, **{k: v for k, v in extra.items() if v is not None}})


def arrive(session: Session, *, user_id: uuid.UUID, stop_id: uuid.UUID) -> RouteStop:
    # The order is locked as for every event but not loaded: arriving changes only the stop.
    _, mine = _lock(session, user_id, stop_id, load_order=False)
    stop, assignment = mine.stop, mine.assignment
    if assignment.state is AssignmentState.offered:
        raise OfferNotFound("Accept the offer first.", code="offer_not_accepted")
    if stop.status is StopStatus.pending:
        stop.status = StopStatus.arrived
        stop.arrived_at = clock.now()
        _event(session, "dispatch.stop_arrived", stop, kind=stop.kind.value)
    session.flush()
    return stop


def picked_up(session: Session, *, user_id: uuid.UUID, stop_id: uuid.UUID, bags: int) -> RouteStop:
    mine = _mine(session, user_id, stop_id)
    order, stop, assignment = mine.order, mine.stop, mine.assignment
    if stop.kind is not StopKind.pickup:
        raise StopOutOfOrder("Only a pickup stop can be picked up.", kind=stop.kind.value)
    if assignment.state is AssignmentState.offered:
        raise OfferNotFound("Accept the offer first.", code="offer_not_accepted")
    if order.status is not OrderStatus.assigned:
        raise StopOutOfOrder("The order is not packed and handed to you yet.", status=order.status.value)
    # Each part with whether it is already on board, read before this stop changes: every
    # change below then goes out in the one flush at the end.
    parts = [
        (f, done) for f, done in repo.parts_collected(session, order.id) if f.status is not FulfilmentStatus.cancelled
    ]
    fulfilment = next((f for f, _ in parts if f.location_id == stop.location_id), parts[0][0])
    if fulfilment.bags is not None and bags != fulfilment.bags:
        # A bag left on the counter is found now, not at the customer's door.
        raise BagCountMismatch(
            f"The store packed {fulfilment.bags} bag(s); you counted {bags}.", packed=fulfilment.bags, counted=bags
        )
    now = clock.now()
    stop.status, stop.completed_at, stop.arrived_at = StopStatus.done, now, stop.arrived_at or now
    stop.bags = bags
    # A split order is picked up when its last part is on board; until then it stays assigned
    # (and fixed to this courier: the next cycle sees the collected part on board).
    missing = {f.location_id for f, done in parts if not done and f.location_id != stop.location_id}
    if not missing:
        orders.advance_locked(session, order, to=OrderStatus.picked_up, actor_id=user_id)
    _event(session, "dispatch.picked_up", stop, bags=bags, location_id=str(stop.location_id), parts_left=len(missing))
    session.flush()
    return stop


def delivered(session: Session, *, user_id: uuid.UUID, stop_id: uuid.UUID, proof: DeliveredIn) -> RouteStop:
    mine = _mine(session, user_id, stop_id)
    order, stop, assignment = mine.order, mine.stop, mine.assignment
    now = clock.now()
    last = True
    if stop.kind is StopKind.return_:
        # Goods handed back at the store after a failed delivery; a split order's parts go back
        # to their own stores and the order is returned with the last of them.
        last = not any(s.kind is StopKind.return_ and s.id != stop.id for s in repo.stops_of_order(session, order.id))
        if last:
            orders.advance_locked(session, order, to=OrderStatus.returned, actor_id=user_id)
    elif stop.kind is StopKind.dropoff and order.status is OrderStatus.picked_up:
        # The proof is checked before the payment is captured, and written with the stop's other
        # changes after it: set now, the capture's reads would autoflush it as an UPDATE of its own.
        pod = _check_proof(order, assignment.pod_policy, proof)
        orders.advance_locked(session, order, to=OrderStatus.delivered, actor_id=user_id)
        stop.pod_kind, stop.pod_ref = pod
    else:
        raise StopOutOfOrder("Pick the order up before delivering it.", status=order.status.value)
    stop.status, stop.completed_at, stop.arrived_at = StopStatus.done, now, stop.arrived_at or now
    _event(session, "dispatch.delivered" if stop.kind is StopKind.dropoff else "dispatch.returned", stop)
    if last:
        session.delete(assignment)  # the stop keeps who did it; the courier no longer carries it
    after_commit.request_cycle(session, mine.zone_id)
    session.flush()
    return stop


def _check_proof(order: Order, policy: PodPolicy, proof: DeliveredIn) -> tuple[str, str]:
    if proof.pin is not None:
        if not hmac.compare_digest(proof.pin, delivery_pin(order.id)):
            raise WrongPin("The PIN does not match this order.")
        return "pin", hashlib.sha256(proof.pin.encode()).hexdigest()
    if policy is PodPolicy.pin:
        raise ProofRequired("This order needs the customer's PIN.", policy=policy.value)
    if proof.photo_sha256 is not None:
        return "photo", proof.photo_sha256
    if proof.signature is not None:
        return "signature", hashlib.sha256(proof.signature.encode()).hexdigest()
    raise ProofRequired("Give the PIN, a photo hash or a signature.", policy=policy.value)


def failed(
    session: Session, *, user_id: uuid.UUID, stop_id: uuid.UUID, reason: FailureReason, note: str = ""
) -> RouteStop:
    mine = _mine(session, user_id, stop_id)
    order, stop, assignment = mine.order, mine.stop, mine.assignment
    if stop.kind is not StopKind.dropoff or order.status is not OrderStatus.picked_up:
        raise StopOutOfOrder("Only a drop-off of an order you carry can fail.", kind=stop.kind.value)
    now = clock.now()
    stop.status, stop.completed_at, stop.failure_reason = StopStatus.failed, now, reason
    stop.arrived_at = stop.arrived_at or now
    assignment.attempts += 1
    retry = reason not in FINAL_FAILURES and assignment.attempts < get_dispatch_settings().max_attempts
    if retry:
        assignment.retry_after = now + RETRY_AFTER
    else:
        order.cancel_reason = f"delivery failed: {reason}"[:200]
        orders.advance_locked(session, order, to=OrderStatus.failed_delivery, actor_id=user_id)
    _event(
        session,
        "dispatch.delivery_failed",
        stop,
        reason=reason,
        note=note or None,
        attempt=assignment.attempts,
        next="reattempt" if retry else "return_to_store",
    )
    after_commit.request_cycle(session, mine.zone_id)
    session.flush()
    return stop
