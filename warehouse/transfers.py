"""Transfers: stock moving down the tiers, planned → in_transit → received (or cancelled).

Ledger at each step (every level change goes through `ledger.move`, ref_id = transfer id):

- planned:    source reserve (0, +q)          the units are promised, checkouts cannot sell them
- in_transit: source transfer_out (−q, −q)    they leave the shelf and the promise together
- received:   destination transfer_in (+r, 0) r = what was counted at the door
- cancelled:  source release (0, −q)          only from planned: nothing has moved yet

A short receipt (r < q) is recorded on the line; the difference is *lost in transit*. It is in
neither ledger on purpose: the source booked the units out at dispatch and the destination never
booked them in, so both ledgers stay true to their shelves. Operators see the loss as
`qty_lost` / `lost_qty` on the transfer (and can list short transfers), which is the figure a
claim against the carrier needs. Network stock is therefore conserved as
Σ on_hand + Σ in transit = initial + receipts − sold − written off − lost.

Reading (pages, details, in-transit figures) lives in `warehouse.transfer_queries`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from core import clock
from core.events import emit
from core.geo import GeoPoint, haversine_m
from stores.models import TIER, Location
from warehouse import alerts, reservations
from warehouse import repository as level_repo
from warehouse import transfer_repository as repo
from warehouse.ledger import move
from warehouse.models import MovementKind, Transfer, TransferLine, TransferStatus
from warehouse.replenishment_requests import maybe_request_replenishment, request_replenishment
from warehouse.transfer_errors import (
    DuplicateSku,
    InvalidTransition,
    LocationNotFound,
    NotDownTheTiers,
    OverReceipt,
    ReceiptLinesMismatch,
    SameLocation,
    TransferNotFound,
)
from warehouse.transfer_schemas import (
    ReceiptLineIn,
    TransferLineIn,
)

MANUAL = "manual"
REPLENISHMENT = repo.REPLENISHMENT

# Travel estimate for expected_at: a van averages ~36 km/h door to door in a city, plus loading
# and unloading. Good enough for "when will it arrive"; route planning is dispatch's job.
VAN_SPEED_M_S = 10.0
HANDLING_S = 15 * 60


def travel_seconds(source: Location, destination: Location) -> int:
    metres = haversine_m(GeoPoint(lat=source.lat, lon=source.lon), GeoPoint(lat=destination.lat, lon=destination.lon))
    return round(metres / VAN_SPEED_M_S) + HANDLING_S


# --- planning ---------------------------------------------------------------------------------


def create_transfer(
    session: Session,
    *,
    from_location_id: uuid.UUID,
    to_location_id: uuid.UUID,
    lines: Sequence[TransferLineIn],
    actor_id: uuid.UUID | None = None,
) -> Transfer:
    """A manual transfer between any two locations, the source on a higher tier. Reserves the
    units at the source at once (409 `insufficient_stock` if it does not have them)."""
    if from_location_id == to_location_id:
        raise SameLocation("A transfer needs two different locations.")
    source = _location(session, from_location_id, "from_location_id")
    destination = _location(session, to_location_id, "to_location_id")
    if TIER[source.kind] >= TIER[destination.kind]:
        raise NotDownTheTiers(
            "Stock moves down the tiers: the source must be on a higher tier than the destination.",
            from_kind=source.kind.value,
            to_kind=destination.kind.value,
        )
    quantities: dict[uuid.UUID, int] = {}
    for line in lines:
        if line.sku_id in quantities:
            raise DuplicateSku("Each SKU may appear once per transfer.", sku_id=str(line.sku_id))
        quantities[line.sku_id] = line.qty
    transfer = Transfer(
        from_location_id=source.id,
        to_location_id=destination.id,
        status=TransferStatus.planned,
        reason=MANUAL,
        planned_at=clock.now(),
        created_by=actor_id,
    )
    session.add(transfer)
    session.flush()
    _reserve_lines(session, transfer, quantities, actor_id=actor_id)
    _announce(session, "transfer.planned", transfer, {"lines": _qty_payload(quantities)})
    return transfer


def plan_replenishment_transfer(
    session: Session, *, source: Location, destination: Location, quantities: Mapping[uuid.UUID, int]
) -> Transfer:
    """Top up the planned replenishment transfer on this leg, or start one.

    One open truck per (parent → location): SKUs found short on later runs join the transfer
    that has not left yet instead of sending another vehicle. The caller has checked that the
    source can spare `quantities` (under lock), so the reservations cannot fail.
    """
    transfer = repo.open_replenishment_transfer(session, from_location_id=source.id, to_location_id=destination.id)
    amended = transfer is not None
    if transfer is None:
        transfer = Transfer(
            from_location_id=source.id,
            to_location_id=destination.id,
            status=TransferStatus.planned,
            reason=REPLENISHMENT,
            planned_at=clock.now(),
        )
        session.add(transfer)
        session.flush()
    _reserve_lines(session, transfer, quantities, actor_id=None)
    _announce(session, "transfer.planned", transfer, {"lines": _qty_payload(quantities), "amended": amended})
    return transfer


def _reserve_lines(
    session: Session, transfer: Transfer, quantities: Mapping[uuid.UUID, int], *, actor_id: uuid.UUID | None
) -> None:
    # SKU order: the order every stock writer locks level rows in (no deadlocks between them).
    for sku_id in sorted(quantities):
        qty = quantities[sku_id]
        # Lapsed checkout holds at the source (a DC serves customers too) are free stock before
        # any sweep: release them under the row lock, or they would refuse this transfer.
        if level_repo.lock_level(session, location_id=transfer.from_location_id, sku_id=sku_id) is not None:
            reservations.reclaim_locked(session, location_id=transfer.from_location_id, sku_id=sku_id)
        level = move(
            session,
            location_id=transfer.from_location_id,
            sku_id=sku_id,
            kind=MovementKind.reserve,
            reserved_delta=qty,
            reason=f"transfer {transfer.id} planned",
            ref_id=transfer.id,
            actor_id=actor_id,
        )
        line = repo.get_line(session, transfer_id=transfer.id, sku_id=sku_id)
        if line is None:
            session.add(TransferLine(transfer_id=transfer.id, sku_id=sku_id, qty=qty))
        else:
            line.qty += qty
        # What the source promised away may take it to its own reorder point: replenishment
        # cascades up the network (store ← DC ← central warehouse).
        maybe_request_replenishment(session, location_id=transfer.from_location_id, sku_id=sku_id, level=level)
    session.flush()


# --- transitions ----------------------------------------------------------------------------------


def dispatch_transfer(session: Session, *, transfer_id: uuid.UUID, actor_id: uuid.UUID | None = None) -> Transfer:
    """planned → in_transit: the reserved units leave the source's shelf; expected_at is set."""
    transfer = _locked(session, transfer_id)
    _require(transfer, TransferStatus.planned, "dispatch")
    for line in repo.lines_of(session, transfer.id):
        move(
            session,
            location_id=transfer.from_location_id,
            sku_id=line.sku_id,
            kind=MovementKind.transfer_out,
            on_hand_delta=-line.qty,
            reserved_delta=-line.qty,
            reason=f"transfer {transfer.id} dispatched",
            ref_id=transfer.id,
            actor_id=actor_id,
        )
    source = _location(session, transfer.from_location_id, "from_location_id")
    destination = _location(session, transfer.to_location_id, "to_location_id")
    now = clock.now()
    transfer.status = TransferStatus.in_transit
    transfer.dispatched_at = now
    transfer.expected_at = now + timedelta(seconds=travel_seconds(source, destination))
    session.flush()
    _announce(session, "transfer.dispatched", transfer, {"expected_at": transfer.expected_at.isoformat()})
    return transfer


def receive_transfer(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    lines: Sequence[ReceiptLineIn],
    receiving_location_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
) -> Transfer:
    """in_transit → received with the quantities counted at the door, one entry per line.

    Short receipts are accepted and recorded (lost in transit); more than was sent is a 422:
    it is a miscount, and booking it would create stock out of nothing. `receiving_location_id`
    scopes the call to staff of the destination (anyone else gets 404).
    """
    transfer = _locked(session, transfer_id, receiving_location_id=receiving_location_id)
    _require(transfer, TransferStatus.in_transit, "receive")
    # A receipt changes the destination's levels, its incoming quantities and its alerts at once:
    # taking the planner's lock keeps a replenishment run of the same location from interleaving
    # with it (and two writers of the same alert rows from deadlocking).
    repo.lock_replenishment(session, transfer.to_location_id)
    counted: dict[uuid.UUID, int] = {}
    for entry in lines:
        if entry.sku_id in counted:
            raise DuplicateSku("Each SKU may be counted once per receipt.", sku_id=str(entry.sku_id))
        counted[entry.sku_id] = entry.qty_received
    transfer_lines = repo.lines_of(session, transfer.id)
    expected = {line.sku_id for line in transfer_lines}
    if set(counted) != expected:
        raise ReceiptLinesMismatch(
            "A receipt must count every line of the transfer, and only those.",
            missing=sorted(str(sku) for sku in expected - set(counted)),
            unexpected=sorted(str(sku) for sku in set(counted) - expected),
        )
    # Validate everything before the first movement, so that a bad line leaves no half receipt.
    for line in transfer_lines:
        if counted[line.sku_id] > line.qty:
            raise OverReceipt(
                "More was counted than the transfer carried.",
                sku_id=str(line.sku_id),
                qty=line.qty,
                qty_received=counted[line.sku_id],
            )
    for line in transfer_lines:
        received = counted[line.sku_id]
        line.qty_received = received
        if received > 0:
            move(
                session,
                location_id=transfer.to_location_id,
                sku_id=line.sku_id,
                kind=MovementKind.transfer_in,
                on_hand_delta=received,
                reason=f"transfer {transfer.id} received",
                ref_id=transfer.id,
                actor_id=actor_id,
                create_level=True,
            )
    transfer.status = TransferStatus.received
    transfer.received_at = clock.now()
    session.flush()

    skus = sorted(expected)
    alerts.refresh_stock_outs(session, location_id=transfer.to_location_id, sku_ids=skus)
    # A short receipt, or demand that outran the truck, can leave the shelf still low; the
    # transfer no longer counts as incoming, so the planner must look again.
    still_low = [
        c.sku_id
        for c in repo.replenishment_candidates(session, location_id=transfer.to_location_id, sku_ids=skus)
        if c.target_level > 0 and c.available <= c.reorder_point
    ]
    request_replenishment(session, location_id=transfer.to_location_id, sku_ids=still_low)
    _announce(
        session,
        "transfer.received",
        transfer,
        {
            "lines": [
                {"sku_id": str(line.sku_id), "qty": line.qty, "qty_received": line.qty_received}
                for line in transfer_lines
            ],
            "lost_qty": sum(line.qty - counted[line.sku_id] for line in transfer_lines),
        },
    )
    return transfer


def cancel_transfer(session: Session, *, transfer_id: uuid.UUID, actor_id: uuid.UUID | None = None) -> Transfer:
    """planned → cancelled: the source's reservation is released. Once on the road a transfer
    can only be received (possibly as a total loss: count 0 for every line).

    A cancelled replenishment need is planned again by the next run if it still exists; to stop
    replenishing, change the level's reorder point or target instead.
    """
    transfer = _locked(session, transfer_id)
    _require(transfer, TransferStatus.planned, "cancel")
    for line in repo.lines_of(session, transfer.id):
        move(
            session,
            location_id=transfer.from_location_id,
            sku_id=line.sku_id,
            kind=MovementKind.release,
            reserved_delta=-line.qty,
            reason=f"transfer {transfer.id} cancelled",
            ref_id=transfer.id,
            actor_id=actor_id,
        )
    transfer.status = TransferStatus.cancelled
    session.flush()
    _announce(session, "transfer.cancelled", transfer, {})
    return transfer


# --- helpers -------------------------------------------------------------------------------------


def _location(session: Session, location_id: uuid.UUID, field: str) -> Location:
    location = repo.get_location(session, location_id)
    if location is None:
        raise LocationNotFound("No such location.", field=field, location_id=str(location_id))
    return location


def _locked(session: Session, transfer_id: uuid.UUID, *, receiving_location_id: uuid.UUID | None = None) -> Transfer:
    # The row lock serialises transitions of one transfer: two dispatchers pressing the button
    # together get one dispatch and one 409, never two transfer_out lines.
    transfer = repo.get_transfer(session, transfer_id, for_update=True)
    if transfer is None or (receiving_location_id is not None and transfer.to_location_id != receiving_location_id):
        raise TransferNotFound("No such transfer.")
    return transfer


def _require(transfer: Transfer, status: TransferStatus, action: str) -> None:
    if transfer.status is not status:
        raise InvalidTransition(
            f"A {transfer.status.value} transfer cannot {action}; only a {status.value} one can.",
            # Not `status`: problem+json already uses that key for the HTTP status.
            current_status=transfer.status.value,
            action=action,
        )


def _qty_payload(quantities: Mapping[uuid.UUID, int]) -> list[dict[str, Any]]:
    return [{"sku_id": str(sku), "qty": quantities[sku]} for sku in sorted(quantities)]


def _announce(session: Session, topic: str, transfer: Transfer, extra: dict[str, Any]) -> None:
    emit(
        session,
        topic,
        {
            "transfer_id": str(transfer.id),
            "from_location_id": str(transfer.from_location_id),
            "to_location_id": str(transfer.to_location_id),
            "status": transfer.status.value,
            "reason": transfer.reason,
            **extra,
        },
    )
