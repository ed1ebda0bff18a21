"""Stock operations people perform — receive, adjust, count, write off, set policy — and the views
of stock (one location, one SKU across the tiers, the ledger).

Each operation locks its level row first (SKU order when there are several), releases expired
holds sitting on it (they would otherwise block a write-off or a count), then changes the level
through `ledger.move`, so the ledger line and the level change are one. Concurrent staff
adjustments therefore queue on the row instead of losing updates.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence

from sqlalchemy.orm import Session

from core import clock
from core.errors import InvalidInput
from stores.models import Location, LocationKind
from warehouse import alerts, catalogue, reservations
from warehouse import repository as repo
from warehouse import stock_repository as views
from warehouse.errors import UnknownStockLevel
from warehouse.ledger import Level, move
from warehouse.models import MovementKind
from warehouse.replenishment_requests import request_replenishment
from warehouse.schemas import (
    MAX_LEVEL,
    MAX_QTY,
    LedgerPage,
    LevelOut,
    LevelPage,
    LocationLevelOut,
    MovementOut,
    SkuOut,
    SkuStockOut,
    StockChangeOut,
    StockTotals,
    TierTotals,
)
from warehouse.stock_errors import CountBelowReserved, LevelOutOfRange, LocationNotFound

# --- operations -----------------------------------------------------------------------------------


def receive(
    session: Session,
    *,
    location_id: uuid.UUID,
    lines: Sequence[tuple[uuid.UUID, int]],
    reference: str = "",
    actor_id: uuid.UUID | None = None,
) -> list[LevelOut]:
    """Book a supplier delivery in: one receipt line per SKU (duplicates merged)."""
    require_location(session, location_id=location_id)
    quantities: dict[uuid.UUID, int] = {}
    for sku_id, qty in lines:
        quantities[sku_id] = quantities.get(sku_id, 0) + qty
    catalogue.require_skus(session, quantities)
    note = f"receipt {reference}".strip()
    changes = {
        sku_id: _change(
            session, location_id, sku_id, quantities[sku_id], MovementKind.receipt, note, actor_id, create=True
        )
        for sku_id in sorted(quantities)
    }
    _after(session, location_id, changes)
    return [get_level(session, location_id=location_id, sku_id=sku) for sku in sorted(quantities)]


def adjust(
    session: Session,
    *,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    delta: int,
    reason: str,
    actor_id: uuid.UUID | None = None,
) -> StockChangeOut:
    """Correct on_hand by `delta` (found, damaged in the back room, …) with a reason. A
    negative delta may take only what is not held for orders (409 `insufficient_stock`)."""
    _check(delta != 0 and abs(delta) <= MAX_QTY, reason)
    _require(session, location_id, sku_id)
    change = _change(session, location_id, sku_id, delta, MovementKind.adjustment, reason, actor_id, create=delta > 0)
    _after(session, location_id, {sku_id: change})
    return StockChangeOut(level=get_level(session, location_id=location_id, sku_id=sku_id), on_hand_delta=delta)


def count(
    session: Session,
    *,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    counted: int,
    reason: str = "cycle count",
    actor_id: uuid.UUID | None = None,
) -> StockChangeOut:
    """Set on_hand to what was counted on the shelf, through one adjustment line (none if the
    count agrees). A count below what open orders hold is refused (`count_below_reserved`)."""
    if not 0 <= counted <= MAX_LEVEL:
        raise LevelOutOfRange(f"A count is between 0 and {MAX_LEVEL}.")
    _require(session, location_id, sku_id)
    locked = _lock_and_reclaim(session, location_id, sku_id, create=True)
    if counted < locked.reserved:
        raise CountBelowReserved(
            "Open reservations hold more than was counted; short-pick or release them first.",
            counted=counted,
            reserved=locked.reserved,
        )
    delta = counted - locked.on_hand
    if delta:
        note = f"count: {reason} ({locked.on_hand} → {counted})"
        level = move(
            session,
            location_id=location_id,
            sku_id=sku_id,
            kind=MovementKind.adjustment,
            on_hand_delta=delta,
            reason=note,
            actor_id=actor_id,
        )
        _after(session, location_id, {sku_id: (locked, level)})
    return StockChangeOut(level=get_level(session, location_id=location_id, sku_id=sku_id), on_hand_delta=delta)


def write_off(
    session: Session,
    *,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    qty: int,
    reason: str,
    actor_id: uuid.UUID | None = None,
) -> StockChangeOut:
    """Take damaged, expired or lost units off the books. Only units not held for orders."""
    _check(0 < qty <= MAX_QTY, reason)
    _require(session, location_id, sku_id)
    change = _change(session, location_id, sku_id, -qty, MovementKind.write_off, reason, actor_id, create=False)
    _after(session, location_id, {sku_id: change})
    return StockChangeOut(level=get_level(session, location_id=location_id, sku_id=sku_id), on_hand_delta=-qty)


def set_policy(
    session: Session,
    *,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    reorder_point: int,
    target_level: int,
    bin: str | None = None,
) -> LevelOut:
    """Range a SKU at a location (creating its level) and set when and how far to refill it.
    If the shelf is already at or below the new reorder point, replenishment is asked for now."""
    if not 0 <= reorder_point <= target_level <= MAX_LEVEL:
        raise InvalidInput("Need 0 ≤ reorder_point ≤ target_level.", code="policy_inconsistent")
    _require(session, location_id, sku_id)
    locked = _lock_and_reclaim(session, location_id, sku_id, create=True)
    repo.set_policy(
        session, location_id=location_id, sku_id=sku_id, reorder_point=reorder_point, target_level=target_level, bin=bin
    )
    policy = repo.LockedLevel(locked.on_hand, locked.reserved, reorder_point, target_level)
    _after(session, location_id, {sku_id: (policy, Level(locked.on_hand, locked.reserved))})
    return get_level(session, location_id=location_id, sku_id=sku_id)


def _check(quantity_ok: bool, reason: str) -> None:
    if not quantity_ok:
        raise InvalidInput(f"Quantities are whole numbers from 1 to {MAX_QTY}.", code="invalid_quantity")
    if len(reason.strip()) < 3:
        raise InvalidInput("Say why: a reason of at least 3 characters.", code="reason_required")


def _change(
    session: Session,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    delta: int,
    kind: MovementKind,
    reason: str,
    actor_id: uuid.UUID | None,
    *,
    create: bool,
) -> tuple[repo.LockedLevel, Level]:
    locked = _lock_and_reclaim(session, location_id, sku_id, create=create)
    if locked.on_hand + delta > MAX_LEVEL:
        raise LevelOutOfRange(f"A level holds at most {MAX_LEVEL} units.", on_hand=locked.on_hand, delta=delta)
    level = move(
        session,
        location_id=location_id,
        sku_id=sku_id,
        kind=kind,
        on_hand_delta=delta,
        reason=reason,
        actor_id=actor_id,
    )
    return locked, level


def _lock_and_reclaim(
    session: Session, location_id: uuid.UUID, sku_id: uuid.UUID, *, create: bool = False
) -> repo.LockedLevel:
    """Lock the level (starting it at 0/0 if `create`), release the expired holds on it, and
    return it as it now is."""
    locked = repo.lock_level(session, location_id=location_id, sku_id=sku_id)
    if locked is None and create:
        # Only for a level that does not exist yet: an INSERT … ON CONFLICT against a row that
        # another transaction is updating waits for it *without* queueing on the row lock, and
        # every such waiter wakes at once when it commits (a convoy on busy rows).
        repo.ensure_level(session, location_id=location_id, sku_id=sku_id)
        locked = repo.lock_level(session, location_id=location_id, sku_id=sku_id)
    if locked is None:
        raise UnknownStockLevel("This location does not stock this SKU.", sku_id=str(sku_id))
    freed = reservations.reclaim_locked(session, location_id=location_id, sku_id=sku_id)
    if not freed:
        return locked
    return repo.LockedLevel(locked.on_hand, locked.reserved - freed, locked.reorder_point, locked.target_level)


def _after(
    session: Session, location_id: uuid.UUID, changes: Mapping[uuid.UUID, tuple[repo.LockedLevel, Level]]
) -> None:
    """A shelf at or below its reorder point asks for replenishment (after commit); any change
    of a ranged SKU may open or close its stock-out alert. Unranged levels (target 0) have
    neither, which keeps these extra statements off most rows that staff touch."""
    ranged = [sku for sku, (policy, _) in changes.items() if policy.target_level > 0]
    low = [sku for sku in ranged if changes[sku][1].available <= changes[sku][0].reorder_point]
    if low:
        request_replenishment(session, location_id=location_id, sku_ids=low)
    if ranged:
        alerts.refresh_stock_outs(session, location_id=location_id, sku_ids=ranged)


def _require(session: Session, location_id: uuid.UUID, sku_id: uuid.UUID) -> None:
    require_location(session, location_id=location_id)
    catalogue.get_sku(session, sku_id=sku_id)


def require_location(session: Session, *, location_id: uuid.UUID) -> Location:
    location = session.get(Location, location_id)
    if location is None:
        raise LocationNotFound("No such location.", location_id=str(location_id))
    return location


# --- views ---------------------------------------------------------------------------------------


def location_levels(
    session: Session,
    *,
    location_id: uuid.UUID,
    query: str | None = None,
    low_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> LevelPage:
    """What one location stocks or has on its way, by SKU code."""
    require_location(session, location_id=location_id)
    rows, total = views.location_levels(
        session, location_id=location_id, now=clock.now(), query=query, low_only=low_only, limit=limit, offset=offset
    )
    return LevelPage(items=[_level_out(row) for row in rows], total=total, limit=limit, offset=offset)


def get_level(session: Session, *, location_id: uuid.UUID, sku_id: uuid.UUID) -> LevelOut:
    rows, _ = views.location_levels(
        session, location_id=location_id, now=clock.now(), sku_ids=[sku_id], limit=1, with_total=False
    )
    if not rows:
        raise UnknownStockLevel("This location does not stock this SKU.", sku_id=str(sku_id))
    return _level_out(rows[0])


def sku_network(session: Session, *, sku_id: uuid.UUID, limit: int = 50, offset: int = 0) -> SkuStockOut:
    """One SKU across the network: totals, per tier, and a page of locations (by tier, code)."""
    sku = catalogue.get_sku(session, sku_id=sku_id)
    rows, groups = views.sku_locations(session, sku_id=sku_id, now=clock.now(), limit=limit, offset=offset)
    totals = StockTotals()
    tiers: dict[int, TierTotals] = {}
    for group in groups:
        tier = tiers.setdefault(group.tier, TierTotals(tier=group.tier, kinds=[]))
        tier.kinds.append(LocationKind(group.kind).value)
        for target in (tier, totals):
            target.on_hand += int(group.on_hand)
            target.reserved += int(group.reserved)
            target.available += int(group.available)
            target.in_transit += int(group.in_transit)
            target.locations += int(group.locations)
    return SkuStockOut(
        sku=SkuOut.model_validate(sku),
        totals=totals,
        tiers=[tiers[t] for t in sorted(tiers)],
        locations=[
            LocationLevelOut(
                location_id=row.location_id,
                location_code=row.location_code,
                location_name=row.location_name,
                kind=LocationKind(row.kind).value,
                tier=row.tier,
                on_hand=row.on_hand,
                reserved=row.reserved,
                expired_pending=row.expired_pending,
                available=row.available,
                in_transit=row.in_transit,
                reorder_point=row.reorder_point,
                target_level=row.target_level,
                low=row.low,
            )
            for row in rows
        ],
        total_locations=totals.locations,
        limit=limit,
        offset=offset,
    )


def ledger(
    session: Session,
    *,
    location_id: uuid.UUID | None = None,
    sku_id: uuid.UUID | None = None,
    kinds: Collection[MovementKind] = (),
    before: int | None = None,
    limit: int = 50,
) -> LedgerPage:
    """Movements newest first, `limit` (≤ 100) at a time; `next_cursor` → `before` of the next."""
    rows = views.ledger(session, location_id=location_id, sku_id=sku_id, kinds=kinds, before=before, limit=limit)
    page = rows[:limit]
    items = [MovementOut.model_validate(row, from_attributes=True) for row in page]
    return LedgerPage(items=items, next_cursor=page[-1].id if len(rows) > limit else None)


def _level_out(row: object) -> LevelOut:
    return LevelOut.model_validate(row, from_attributes=True)
