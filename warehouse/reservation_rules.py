"""Rules shared by the reservation use cases: expiry, quantities, lock order, releasing units.

Kept apart so that `reservations` (taking holds) and `reservation_closing` (ending them) share
one definition of each rule without importing each other.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core.errors import InvalidInput
from warehouse import repository as repo
from warehouse.ledger import move
from warehouse.models import MovementKind, ReservationStatus, StockReservation
from warehouse.schemas import MAX_LINES, MAX_QTY, MAX_TTL_S
from warehouse.stock_errors import ReservationClosed, ReservationExpired, ReservationNotFound

EXPIRED = "expired"


def merge_lines(lines: Sequence[tuple[uuid.UUID, int]]) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, int]]:
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidInput(f"A reservation has 1 to {MAX_LINES} lines.", code="invalid_lines")
    wanted: dict[uuid.UUID, int] = {}
    first_index: dict[uuid.UUID, int] = {}
    for index, (sku_id, qty) in enumerate(lines):
        if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= MAX_QTY:
            raise InvalidInput(f"Quantities are whole numbers from 1 to {MAX_QTY}.", code="invalid_quantity")
        wanted[sku_id] = wanted.get(sku_id, 0) + qty
        first_index.setdefault(sku_id, index)
    if any(qty > MAX_QTY for qty in wanted.values()):
        raise InvalidInput(f"At most {MAX_QTY} units of one SKU.", code="invalid_quantity")
    return wanted, first_index


def deadline(*, now: datetime, ttl_s: int | None, expires_at: datetime | None, indefinite: bool) -> datetime | None:
    if (ttl_s is not None) + (expires_at is not None) + indefinite != 1:
        raise ValueError("give exactly one of ttl_s, expires_at or indefinite=True")
    if indefinite:
        return None
    if ttl_s is not None:
        if isinstance(ttl_s, bool) or not 1 <= ttl_s <= MAX_TTL_S:
            raise InvalidInput(f"ttl_s must be 1 to {MAX_TTL_S} seconds.", code="invalid_ttl")
        return now + timedelta(seconds=ttl_s)
    assert expires_at is not None
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    if not now < expires_at <= now + timedelta(seconds=MAX_TTL_S):
        raise InvalidInput("expires_at must lie in the future, within 30 days.", code="invalid_expiry")
    return expires_at


def require_open(reservation: StockReservation, now: datetime) -> None:
    if reservation.status is ReservationStatus.expired or (
        reservation.status is ReservationStatus.active
        and reservation.expires_at is not None
        and reservation.expires_at <= now
    ):
        raise ReservationExpired(
            "This reservation has expired; its units may be sold to someone else.",
            reservation_id=str(reservation.id),
        )
    if reservation.status is not ReservationStatus.active:
        raise ReservationClosed(
            f"This reservation is already {reservation.status.value}.",
            reservation_id=str(reservation.id),
            status=reservation.status.value,
        )


def select_keys(
    session: Session,
    *,
    reservation_ids: Collection[uuid.UUID] | None = None,
    holder_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    include_expired: bool = False,
) -> list[repo.Closed]:
    if (reservation_ids is None) == (holder_id is None):
        raise ValueError("select reservations by reservation_ids or by holder_id")
    if reservation_ids is not None:
        ids = set(reservation_ids)
        keys = repo.reservation_keys(session, ids=ids, location_id=location_id, active_only=False)
        missing = ids - {key.id for key in keys}
        if missing:
            raise ReservationNotFound("No such reservation.", reservation_id=str(min(missing)))
        return keys
    return repo.reservation_keys(session, holder_id=holder_id, location_id=location_id, active_only=not include_expired)


def lock_held(session: Session, keys: Sequence[repo.Closed]) -> list[StockReservation]:
    """Levels first (sorted), then the reservations; returned in level order."""
    repo.lock_levels(session, {(key.location_id, key.sku_id) for key in keys})
    held = repo.lock_reservations(session, {key.id for key in keys})
    return sorted(held, key=lambda r: (r.location_id, r.sku_id, r.id))


def close(reservation: StockReservation, status: ReservationStatus, now: datetime) -> None:
    reservation.status = status
    reservation.closed_at = now


def as_closed(reservation: StockReservation) -> repo.Closed:
    return repo.Closed(reservation.id, reservation.location_id, reservation.sku_id, reservation.qty)


def release_units(session: Session, item: repo.Closed, reason: str, actor_id: uuid.UUID | None) -> None:
    move(
        session,
        location_id=item.location_id,
        sku_id=item.sku_id,
        kind=MovementKind.release,
        reserved_delta=-item.qty,
        reason=reason,
        ref_id=item.id,
        actor_id=actor_id,
    )
