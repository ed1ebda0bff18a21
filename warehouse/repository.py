"""All SQL of stock levels, reservations, stock views and the ledger reader.

Level *changes* are not here: they go through `warehouse.ledger.move` (and, for new holds,
`warehouse.hold_repository`). This module reads levels, locks them, and reads/writes
reservations. Locking discipline (why nothing here deadlocks):

1. Level rows are locked before reservation rows, and levels in (location_id, sku_id) order.
2. A reservation row may be waited for (`FOR UPDATE`) only by a transaction that already holds
   its level; anyone else locks reservations with `SKIP LOCKED`, so never waits for them.

Under (1) and (2) every wait is for a level row in sorted order, so no cycle can form.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, select, text, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from warehouse.models import ReservationStatus, StockLevel, StockReservation

Pair = tuple[uuid.UUID, uuid.UUID]  # (location_id, sku_id)


@dataclass(frozen=True, slots=True)
class Closed:
    """A reservation that a statement here just closed (its units still to be released)."""

    id: uuid.UUID
    location_id: uuid.UUID
    sku_id: uuid.UUID
    qty: int


@dataclass(frozen=True, slots=True)
class LockedLevel:
    on_hand: int
    reserved: int
    reorder_point: int
    target_level: int


# --- the reservation hot path (plain SQL: it runs thousands of times a second) --------------------

# Caller holds the levels; SKIP LOCKED because a reservation locked by someone else is being
# closed by them right now (and because rule 2 forbids waiting for it here).
_RECLAIM = text(
    """
    UPDATE stock_reservations SET status = 'expired', closed_at = :now
     WHERE id IN (SELECT id FROM stock_reservations
                   WHERE location_id = :loc AND sku_id = ANY(CAST(:skus AS uuid[]))
                     AND status = 'active' AND expires_at <= :now
                   ORDER BY id FOR UPDATE SKIP LOCKED)
    RETURNING id, location_id, sku_id, qty
    """
)

_EXPIRE_IDS = text(
    """
    UPDATE stock_reservations SET status = 'expired', closed_at = :now
     WHERE id IN (SELECT id FROM stock_reservations
                   WHERE id = ANY(CAST(:ids AS uuid[])) AND status = 'active' AND expires_at <= :now
                   ORDER BY id FOR UPDATE SKIP LOCKED)
    RETURNING id, location_id, sku_id, qty
    """
)

_DUE = text(
    """
    SELECT id, location_id, sku_id FROM stock_reservations
     WHERE status = 'active' AND expires_at <= :now
     ORDER BY expires_at LIMIT :limit
    """
)

_LOCK_LEVEL = text(
    """
    SELECT on_hand, reserved, reorder_point, target_level FROM stock_levels
     WHERE location_id = :loc AND sku_id = :sku FOR UPDATE
    """
)


def lock_level(session: Session, *, location_id: uuid.UUID, sku_id: uuid.UUID) -> LockedLevel | None:
    row = session.execute(_LOCK_LEVEL, {"loc": location_id, "sku": sku_id}).one_or_none()
    return None if row is None else LockedLevel(row.on_hand, row.reserved, row.reorder_point, row.target_level)


def lock_levels(session: Session, pairs: Iterable[Pair], *, skip_locked: bool = False) -> set[Pair]:
    """Lock the existing levels among `pairs` in (location, sku) order; returns those locked.

    The sort sits below the row-locking step in the plan, so rows are locked in that order.
    """
    wanted = sorted(set(pairs))
    if not wanted:
        return set()
    stmt = (
        select(StockLevel.location_id, StockLevel.sku_id)
        .where(tuple_(StockLevel.location_id, StockLevel.sku_id).in_(wanted))
        .order_by(StockLevel.location_id, StockLevel.sku_id)
        .with_for_update(skip_locked=skip_locked)
    )
    return {(row.location_id, row.sku_id) for row in session.execute(stmt)}


def reclaim_expired(
    session: Session, *, location_id: uuid.UUID, sku_ids: Sequence[uuid.UUID], now: datetime
) -> list[Closed]:
    """Mark the expired holds on these (locked) levels expired; the caller releases their units."""
    rows = session.execute(_RECLAIM, {"loc": location_id, "skus": list(sku_ids), "now": now}).all()
    return _closed(session, rows)


def expire_ids(session: Session, *, ids: Sequence[uuid.UUID], now: datetime) -> list[Closed]:
    rows = session.execute(_EXPIRE_IDS, {"ids": list(ids), "now": now}).all()
    return _closed(session, rows)


def due(session: Session, *, now: datetime, limit: int) -> list[Closed]:
    """Active reservations past their expiry, oldest first (not locked; qty not read)."""
    rows = session.execute(_DUE, {"now": now, "limit": limit})
    return [Closed(row.id, row.location_id, row.sku_id, 0) for row in rows]


def _closed(session: Session, rows: Sequence[Row[Any]]) -> list[Closed]:
    closed = [Closed(row.id, row.location_id, row.sku_id, row.qty) for row in rows]
    # Objects of these rows loaded earlier in the session would otherwise show the old status.
    for item in closed:
        loaded = session.identity_map.get(identity_key(StockReservation, item.id))
        if loaded is not None:
            session.expire(loaded)
    return closed


# --- reservations by id or holder -----------------------------------------------------------------


def reservation_keys(
    session: Session,
    *,
    ids: Collection[uuid.UUID] | None = None,
    holder_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    active_only: bool = True,
) -> list[Closed]:
    """Which reservations a selection means and where they sit, read without locks (the
    caller then locks their levels, then the reservations)."""
    stmt = select(StockReservation.id, StockReservation.location_id, StockReservation.sku_id, StockReservation.qty)
    if ids is not None:
        stmt = stmt.where(StockReservation.id.in_(list(ids)))
    if holder_id is not None:
        stmt = stmt.where(StockReservation.holder_id == holder_id)
    if location_id is not None:
        stmt = stmt.where(StockReservation.location_id == location_id)
    if active_only:
        stmt = stmt.where(StockReservation.status == ReservationStatus.active)
    return [Closed(row.id, row.location_id, row.sku_id, row.qty) for row in session.execute(stmt)]


def lock_reservations(session: Session, ids: Collection[uuid.UUID]) -> list[StockReservation]:
    """Lock and (re)load reservations whose levels the caller already holds (rule 2)."""
    if not ids:
        return []
    stmt = (
        select(StockReservation)
        .where(StockReservation.id.in_(list(ids)))
        .order_by(StockReservation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def holder_reservations(session: Session, *, holder_id: uuid.UUID) -> list[StockReservation]:
    stmt = (
        select(StockReservation)
        .where(StockReservation.holder_id == holder_id)
        .order_by(StockReservation.location_id, StockReservation.sku_id, StockReservation.id)
    )
    return list(session.scalars(stmt))


def list_reservations(
    session: Session,
    *,
    location_id: uuid.UUID | None,
    sku_id: uuid.UUID | None,
    holder_id: uuid.UUID | None,
    statuses: Collection[ReservationStatus],
    limit: int,
    offset: int,
) -> tuple[list[StockReservation], int]:
    stmt = select(StockReservation)
    if location_id is not None:
        stmt = stmt.where(StockReservation.location_id == location_id)
    if sku_id is not None:
        stmt = stmt.where(StockReservation.sku_id == sku_id)
    if holder_id is not None:
        stmt = stmt.where(StockReservation.holder_id == holder_id)
    if statuses:
        stmt = stmt.where(StockReservation.status.in_(list(statuses)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = stmt.order_by(StockReservation.created_at.desc(), StockReservation.id).limit(limit).offset(offset)
    return list(session.scalars(page)), total


# --- reading levels with what is expired and what is on its way -------------------------------


def _expired_pending(now: datetime) -> Any:
    # Active holds past expiry: still in `reserved` until released, but no longer held.
    r = StockReservation
    return (
        select(r.location_id, r.sku_id, func.sum(r.qty).label("qty"))
        .where(r.status == ReservationStatus.active, r.expires_at <= now)
        .group_by(r.location_id, r.sku_id)
        .subquery("expired")
    )


def availability(
    session: Session, *, location_id: uuid.UUID, sku_ids: Collection[uuid.UUID], now: datetime
) -> dict[uuid.UUID, int]:
    """`on_hand − reserved + expired holds` per SKU (no locks): what a buyer could get now."""
    expired = _expired_pending(now)
    stmt = (
        select(StockLevel.sku_id, StockLevel.on_hand - StockLevel.reserved + func.coalesce(expired.c.qty, 0))
        .outerjoin(
            expired,
            and_(expired.c.location_id == StockLevel.location_id, expired.c.sku_id == StockLevel.sku_id),
        )
        .where(StockLevel.location_id == location_id, StockLevel.sku_id.in_(list(sku_ids)))
    )
    return {row[0]: int(row[1]) for row in session.execute(stmt)}


def level_exists(session: Session, *, location_id: uuid.UUID, sku_id: uuid.UUID) -> bool:
    stmt = select(StockLevel.sku_id).where(StockLevel.location_id == location_id, StockLevel.sku_id == sku_id)
    return session.execute(stmt).first() is not None


def ensure_level(session: Session, *, location_id: uuid.UUID, sku_id: uuid.UUID) -> None:
    """Start a (0, 0) level if there is none, e.g. the first receipt of a new SKU."""
    session.execute(
        text(
            "INSERT INTO stock_levels (location_id, sku_id, on_hand, reserved, reorder_point, target_level, bin,"
            " updated_at) VALUES (:loc, :sku, 0, 0, 0, 0, '', now()) ON CONFLICT (location_id, sku_id) DO NOTHING"
        ),
        {"loc": location_id, "sku": sku_id},
    )


def set_policy(
    session: Session,
    *,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    reorder_point: int,
    target_level: int,
    bin: str | None,
) -> None:
    """Caller holds the level (it exists)."""
    values: dict[str, Any] = {"reorder_point": reorder_point, "target_level": target_level}
    if bin is not None:
        values["bin"] = bin
    session.execute(
        update(StockLevel)
        .where(StockLevel.location_id == location_id, StockLevel.sku_id == sku_id)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
