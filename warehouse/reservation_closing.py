"""Ending holds: release, commit (pick or transfer_out, possibly short), commit a whole holder,
and extend (paid: lift or move the expiry). Import them from `warehouse.reservations`.

Locking as everywhere in stock: the levels of the reservations first (sorted), then the
reservation rows, so waiting on a reservation only ever happens behind its level's holder.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core import clock
from warehouse import repository as repo
from warehouse import reservation_rules as rules
from warehouse.ledger import move
from warehouse.models import MovementKind, ReservationStatus, StockReservation
from warehouse.stock_errors import PickExceedsReservation, ReservationNotFound

SHORT_PICK = "short pick"
_COMMIT_KINDS = frozenset({MovementKind.pick, MovementKind.transfer_out})


@dataclass(frozen=True, slots=True)
class Commitment:
    """The outcome of committing one reservation: `picked` left the shelf, `released` went back."""

    reservation: StockReservation
    picked: int
    released: int


def release(
    session: Session,
    *,
    reservation_ids: Collection[uuid.UUID] | None = None,
    holder_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    reason: str,
    actor_id: uuid.UUID | None = None,
) -> list[StockReservation]:
    """Give held units back, by ids or by holder. Idempotent: reservations already closed are
    skipped; returns those released now. Unknown ids are a `ReservationNotFound`."""
    keys = rules.select_keys(session, reservation_ids=reservation_ids, holder_id=holder_id, location_id=location_id)
    held = rules.lock_held(session, keys)
    now = clock.now()
    released = []
    for reservation in held:
        if reservation.status is not ReservationStatus.active:
            continue
        rules.close(reservation, ReservationStatus.released, now)
        rules.release_units(session, rules.as_closed(reservation), reason or "released", actor_id)
        released.append(reservation)
    session.flush()
    return released


def commit(
    session: Session,
    *,
    reservation_id: uuid.UUID,
    qty: int | None = None,
    kind: MovementKind = MovementKind.pick,
    reason: str = "",
    actor_id: uuid.UUID | None = None,
) -> Commitment:
    """The held units leave the shelf: `kind` pick (an order) or transfer_out (a transfer).

    `qty` below the held quantity is a short pick: the rest is released. Refuses a reservation
    that expired (`reservation_expired`) or was already closed (`reservation_closed`).
    """
    if kind not in _COMMIT_KINDS:
        raise ValueError(f"a reservation is committed by pick or transfer_out, not {kind}")
    (reservation,) = rules.lock_held(session, rules.select_keys(session, reservation_ids=[reservation_id]))
    now = clock.now()
    rules.require_open(reservation, now)
    picked = reservation.qty if qty is None else qty
    if isinstance(picked, bool) or not 0 <= picked <= reservation.qty:
        raise PickExceedsReservation(
            "The quantity must be between 0 and the quantity held.", held=reservation.qty, requested=picked
        )
    return _commit_one(session, reservation, picked, kind, reason, actor_id, now)


def commit_holder(
    session: Session,
    *,
    holder_id: uuid.UUID,
    location_id: uuid.UUID | None = None,
    kind: MovementKind = MovementKind.transfer_out,
    reason: str = "",
    actor_id: uuid.UUID | None = None,
) -> list[Commitment]:
    """Commit everything a holder still holds, in full (a transfer leaving its source). All or
    nothing: one expired hold refuses the whole call before anything moves."""
    if kind not in _COMMIT_KINDS:
        raise ValueError(f"a reservation is committed by pick or transfer_out, not {kind}")
    keys = repo.reservation_keys(session, holder_id=holder_id, location_id=location_id, active_only=True)
    held = [r for r in rules.lock_held(session, keys) if r.status is ReservationStatus.active]
    now = clock.now()
    for reservation in held:
        rules.require_open(reservation, now)
    return [_commit_one(session, r, r.qty, kind, reason, actor_id, now) for r in held]


def _commit_one(
    session: Session,
    reservation: StockReservation,
    picked: int,
    kind: MovementKind,
    reason: str,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> Commitment:
    rest = reservation.qty - picked
    if picked:
        move(
            session,
            location_id=reservation.location_id,
            sku_id=reservation.sku_id,
            kind=kind,
            on_hand_delta=-picked,
            reserved_delta=-picked,
            reason=reason or f"{kind.value} for {reservation.holder_id}",
            ref_id=reservation.id,
            actor_id=actor_id,
        )
    if rest:
        rules.release_units(
            session,
            repo.Closed(reservation.id, reservation.location_id, reservation.sku_id, rest),
            SHORT_PICK if picked else (reason or "nothing picked"),
            actor_id,
        )
    rules.close(reservation, ReservationStatus.committed if picked else ReservationStatus.released, now)
    session.flush()
    return Commitment(reservation=reservation, picked=picked, released=rest)


def extend(
    session: Session,
    *,
    reservation_ids: Collection[uuid.UUID] | None = None,
    holder_id: uuid.UUID | None = None,
    ttl_s: int | None = None,
    expires_at: datetime | None = None,
    indefinite: bool = False,
) -> list[StockReservation]:
    """Move the expiry of live holds (paid: `indefinite=True` lifts it). A hold already past its
    expiry is not revived, even before the sweep reached it — its units were on offer again,
    so checkout must reserve afresh (`reservation_expired`)."""
    now = clock.now()
    deadline = rules.deadline(now=now, ttl_s=ttl_s, expires_at=expires_at, indefinite=indefinite)
    keys = rules.select_keys(session, reservation_ids=reservation_ids, holder_id=holder_id, include_expired=True)
    held = rules.lock_held(session, keys)
    live = [r for r in held if r.status in (ReservationStatus.active, ReservationStatus.expired)]
    if holder_id is not None and not live:
        raise ReservationNotFound("This holder holds nothing.", holder_id=str(holder_id))
    for reservation in held if reservation_ids is not None else live:
        rules.require_open(reservation, now)
    for reservation in live:
        reservation.expires_at = deadline
    session.flush()
    return live
