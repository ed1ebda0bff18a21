"""The read side of stock: level views with expired holds and in-transit units, the ledger reader.

Each view is one statement, so its figures come from one snapshot: on_hand, reserved, the expired
holds inside `reserved` and what is on the road cannot straddle a concurrent commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, case, func, literal, or_, select, union
from sqlalchemy.orm import Session

from stores.models import TIER, Location
from warehouse.models import (
    MovementKind,
    ReservationStatus,
    Sku,
    StockLevel,
    StockMovement,
    StockReservation,
    Transfer,
    TransferLine,
    TransferStatus,
)


def _expired(now: datetime, *, location_id: uuid.UUID | None = None, sku_id: uuid.UUID | None = None) -> Any:
    """Units of active holds past expiry per level: still counted in `reserved` until released,
    but no longer held. The partial index on active expiries keeps this cheap."""
    r = StockReservation
    stmt = select(r.location_id, r.sku_id, func.sum(r.qty).label("qty")).where(
        r.status == ReservationStatus.active, r.expires_at <= now
    )
    if location_id is not None:
        stmt = stmt.where(r.location_id == location_id)
    if sku_id is not None:
        stmt = stmt.where(r.sku_id == sku_id)
    return stmt.group_by(r.location_id, r.sku_id).subquery("expired")


def _transit(*, location_id: uuid.UUID | None = None, sku_id: uuid.UUID | None = None) -> Any:
    """Units on the road to each (location, sku): lines of transfers that left their source."""
    stmt = (
        select(
            Transfer.to_location_id.label("location_id"), TransferLine.sku_id, func.sum(TransferLine.qty).label("qty")
        )
        .join(Transfer, Transfer.id == TransferLine.transfer_id)
        .where(Transfer.status == TransferStatus.in_transit)
    )
    if location_id is not None:
        stmt = stmt.where(Transfer.to_location_id == location_id)
    if sku_id is not None:
        stmt = stmt.where(TransferLine.sku_id == sku_id)
    return stmt.group_by(Transfer.to_location_id, TransferLine.sku_id).subquery("transit")


def _figures(expired: Any, transit: Any) -> dict[str, Any]:
    on_hand = func.coalesce(StockLevel.on_hand, 0)
    raw_reserved = func.coalesce(StockLevel.reserved, 0)
    pending = func.coalesce(expired.c.qty, 0)
    available = on_hand - raw_reserved + pending
    target = func.coalesce(StockLevel.target_level, 0)
    reorder = func.coalesce(StockLevel.reorder_point, 0)
    return {
        "on_hand": on_hand.label("on_hand"),
        "reserved": (raw_reserved - pending).label("reserved"),
        "expired_pending": pending.label("expired_pending"),
        "available": available.label("available"),
        "in_transit": func.coalesce(transit.c.qty, 0).label("in_transit"),
        "reorder_point": reorder.label("reorder_point"),
        "target_level": target.label("target_level"),
        "bin": func.coalesce(StockLevel.bin, "").label("bin"),
        "low": and_(target > 0, available <= reorder).label("low"),
    }


def location_levels(
    session: Session,
    *,
    location_id: uuid.UUID,
    now: datetime,
    sku_ids: Collection[uuid.UUID] | None = None,
    query: str | None = None,
    low_only: bool = False,
    limit: int = 50,
    offset: int = 0,
    with_total: bool = True,
) -> tuple[list[Row[Any]], int]:
    """Every SKU the location stocks or has on its way, by SKU code."""
    expired = _expired(now, location_id=location_id)
    transit = _transit(location_id=location_id)
    keys = union(
        select(StockLevel.sku_id).where(StockLevel.location_id == location_id),
        select(transit.c.sku_id),
    ).subquery("keys")
    f = _figures(expired, transit)
    stmt = (
        select(
            literal(location_id).label("location_id"),
            Sku.id.label("sku_id"),
            Sku.code.label("sku_code"),
            Sku.name.label("sku_name"),
            *f.values(),
        )
        .select_from(keys)
        .join(Sku, Sku.id == keys.c.sku_id)
        .outerjoin(StockLevel, and_(StockLevel.location_id == location_id, StockLevel.sku_id == keys.c.sku_id))
        .outerjoin(expired, expired.c.sku_id == keys.c.sku_id)
        .outerjoin(transit, transit.c.sku_id == keys.c.sku_id)
    )
    if sku_ids is not None:
        stmt = stmt.where(Sku.id.in_(list(sku_ids)))
    if query:
        pattern = f"%{_escape_like(query)}%"
        stmt = stmt.where(or_(Sku.code.ilike(pattern, escape="\\"), Sku.name.ilike(pattern, escape="\\")))
    if low_only:
        stmt = stmt.where(f["low"])
    rows = list(session.execute(stmt.order_by(Sku.code).limit(limit).offset(offset)).all())
    if not with_total:
        return rows, len(rows)
    return rows, session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def _tier() -> Any:
    return case({kind.value: tier for kind, tier in TIER.items()}, value=Location.kind, else_=9)


def sku_locations(
    session: Session, *, sku_id: uuid.UUID, now: datetime, limit: int, offset: int
) -> tuple[list[Row[Any]], list[Row[Any]]]:
    """One SKU at every location that stocks it or has it on its way: a page of locations (by
    tier, then code) and the totals per location kind over all of them."""
    expired = _expired(now, sku_id=sku_id)
    transit = _transit(sku_id=sku_id)
    keys = union(
        select(StockLevel.location_id).where(StockLevel.sku_id == sku_id),
        select(transit.c.location_id),
    ).subquery("keys")
    f = _figures(expired, transit)
    base = (
        select(
            Location.id.label("location_id"),
            Location.code.label("location_code"),
            Location.name.label("location_name"),
            Location.kind,
            _tier().label("tier"),
            *f.values(),
        )
        .select_from(keys)
        .join(Location, Location.id == keys.c.location_id)
        .outerjoin(StockLevel, and_(StockLevel.location_id == keys.c.location_id, StockLevel.sku_id == sku_id))
        .outerjoin(expired, expired.c.location_id == keys.c.location_id)
        .outerjoin(transit, transit.c.location_id == keys.c.location_id)
    )
    rows = session.execute(base.order_by("tier", Location.code).limit(limit).offset(offset)).all()
    all_rows = base.subquery("all_rows")
    totals = session.execute(
        select(
            all_rows.c.kind,
            all_rows.c.tier,
            func.count().label("locations"),
            func.sum(all_rows.c.on_hand).label("on_hand"),
            func.sum(all_rows.c.reserved).label("reserved"),
            func.sum(all_rows.c.available).label("available"),
            func.sum(all_rows.c.in_transit).label("in_transit"),
        ).group_by(all_rows.c.kind, all_rows.c.tier)
    ).all()
    return list(rows), list(totals)


def ledger(
    session: Session,
    *,
    location_id: uuid.UUID | None,
    sku_id: uuid.UUID | None,
    kinds: Collection[MovementKind],
    before: int | None,
    limit: int,
) -> list[Row[Any]]:
    """Up to `limit + 1` movements newest first (the extra one says whether a next page exists).
    The cursor is the movement id: stable while new lines are appended, unlike an offset."""
    m = StockMovement
    stmt = select(
        m.id,
        m.location_id,
        m.sku_id,
        Sku.code.label("sku_code"),
        m.kind,
        m.on_hand_delta,
        m.reserved_delta,
        m.reason,
        m.ref_id,
        m.actor_id,
        m.created_at,
    ).join(Sku, Sku.id == m.sku_id)
    if location_id is not None:
        stmt = stmt.where(m.location_id == location_id)
    if sku_id is not None:
        stmt = stmt.where(m.sku_id == sku_id)
    if kinds:
        stmt = stmt.where(m.kind.in_(list(kinds)))
    if before is not None:
        stmt = stmt.where(m.id < before)
    rows: list[Row[Any]] = list(session.execute(stmt.order_by(m.id.desc()).limit(limit + 1)))
    return rows


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
