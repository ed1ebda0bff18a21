"""Operators' view of reservations: list them, place a manual hold, release by hand.

Checkout and transfers use `warehouse.reservations` directly; this is the ops console's layer.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy.orm import Session

from warehouse import catalogue, stock
from warehouse import repository as repo
from warehouse.models import ReservationStatus
from warehouse.reservations import reserve
from warehouse.schemas import HoldOut, ReservationOut, ReservationPage


def list_reservations(
    session: Session,
    *,
    location_id: uuid.UUID | None = None,
    sku_id: uuid.UUID | None = None,
    holder_id: uuid.UUID | None = None,
    statuses: Collection[ReservationStatus] = (),
    limit: int = 50,
    offset: int = 0,
) -> ReservationPage:
    """Newest first. Active holds past their expiry show as active until swept or reclaimed."""
    rows, total = repo.list_reservations(
        session,
        location_id=location_id,
        sku_id=sku_id,
        holder_id=holder_id,
        statuses=statuses,
        limit=limit,
        offset=offset,
    )
    items = [ReservationOut.model_validate(r) for r in rows]
    return ReservationPage(items=items, total=total, limit=limit, offset=offset)


def place_hold(
    session: Session,
    *,
    location_id: uuid.UUID,
    lines: Sequence[tuple[uuid.UUID, int]],
    ttl_s: int | None,
    reason: str,
    actor_id: uuid.UUID | None,
) -> HoldOut:
    """An operator's hold (a B2B order, a quality check) under a fresh holder id; without a TTL
    it lasts until released. Same all-or-nothing rules as a checkout."""
    stock.require_location(session, location_id=location_id)
    catalogue.require_skus(session, {sku_id for sku_id, _ in lines})
    holder_id = uuid.uuid4()
    held = reserve(
        session,
        location_id=location_id,
        lines=lines,
        holder_id=holder_id,
        ttl_s=ttl_s,
        indefinite=ttl_s is None,
        actor_id=actor_id,
        reason=reason,
    )
    return HoldOut(holder_id=holder_id, reservations=[ReservationOut.model_validate(r) for r in held])
