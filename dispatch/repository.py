"""All SQL of the order domain (orders, idempotency keys) and its reads of stock and catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, Table, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from core.db import Base
from dispatch.models import (
    FulfilmentStatus,
    Order,
    OrderFulfilment,
    OrderLine,
)
from warehouse.models import Category, Sku, StockLevel

Pair = tuple[uuid.UUID, uuid.UUID]  # (location_id, sku_id)

# --- catalogue and stock reads -------------------------------------------------------------------


def skus_by_id(session: Session, sku_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Sku]:
    if not sku_ids:
        return {}
    return {sku.id: sku for sku in session.scalars(select(Sku).where(Sku.id.in_(list(sku_ids))))}


# `warehouse.reservations.available` for many locations in one statement (the checkout asks about
# every candidate at once). Same rule: an active hold past its expiry counts as free.
_AVAILABILITY = text(
    """
    SELECT l.location_id, l.sku_id,
           l.on_hand - l.reserved + coalesce((
               SELECT sum(r.qty) FROM stock_reservations r
                WHERE r.location_id = l.location_id AND r.sku_id = l.sku_id
                  AND r.status = 'active' AND r.expires_at <= :now), 0) AS available
      FROM stock_levels l
     WHERE l.location_id = ANY(CAST(:locs AS uuid[])) AND l.sku_id = ANY(CAST(:skus AS uuid[]))
    """
)


def availability(
    session: Session, *, location_ids: Sequence[uuid.UUID], sku_ids: Collection[uuid.UUID], now: datetime
) -> dict[Pair, int]:
    if not location_ids or not sku_ids:
        return {}
    rows = session.execute(_AVAILABILITY, {"locs": list(location_ids), "skus": list(sku_ids), "now": now})
    return {(row.location_id, row.sku_id): max(int(row.available), 0) for row in rows}


@dataclass(frozen=True, slots=True)
class QueueLoad:
    orders: int
    lines: int


@dataclass(frozen=True, slots=True)
class PickCatalogue:
    """What a pick ticket shows of its SKUs: the SKU rows (of lines and substitutes) and, per
    SKU, its place along the location's pick path: (category pick sequence, bin, code)."""

    skus: dict[uuid.UUID, Sku]
    path: dict[uuid.UUID, tuple[int, str, str]]

    def with_skus(self, skus: Collection[Sku]) -> PickCatalogue:
        return PickCatalogue({**self.skus, **{sku.id: sku for sku in skus}}, self.path)


def pick_catalogue(session: Session, *, location_id: uuid.UUID, sku_ids: Collection[uuid.UUID]) -> PickCatalogue:
    """The SKU rows and their pick-path places in one statement."""
    if not sku_ids:
        return PickCatalogue({}, {})
    rows = session.execute(
        select(Sku, Category.pick_sequence, func.coalesce(StockLevel.bin, ""))
        .join(Category, Category.id == Sku.category_id)
        .outerjoin(StockLevel, (StockLevel.sku_id == Sku.id) & (StockLevel.location_id == location_id))
        .where(Sku.id.in_(list(sku_ids)))
    )
    skus: dict[uuid.UUID, Sku] = {}
    path: dict[uuid.UUID, tuple[int, str, str]] = {}
    for sku, sequence, bin_ in rows:
        skus[sku.id] = sku
        path[sku.id] = (int(sequence), str(bin_), sku.code)
    return PickCatalogue(skus, path)


def _lines_to_pick(*, lock: bool) -> Select[OrderLine, Sku, int, str, Sku]:
    substitute = aliased(Sku)
    stmt = (
        select(OrderLine, Sku, Category.pick_sequence, func.coalesce(StockLevel.bin, ""), substitute)
        .join(Sku, Sku.id == OrderLine.sku_id)
        .join(Category, Category.id == Sku.category_id)
        .outerjoin(
            StockLevel, (StockLevel.sku_id == OrderLine.sku_id) & (StockLevel.location_id == bindparam("location_id"))
        )
        .outerjoin(substitute, substitute.id == OrderLine.substitute_sku_id)
        .where(OrderLine.order_id == bindparam("order_id"))
        .order_by(OrderLine.line_no)
        .execution_options(populate_existing=True)
    )
    return stmt.with_for_update(of=OrderLine) if lock else stmt


# Every pick step sends one of these: built once (with bound parameters), the statement and its
# cache key are not constructed again at each call.
_LINES_TO_PICK = {lock: _lines_to_pick(lock=lock) for lock in (False, True)}


def lines_to_pick(
    session: Session, *, order_id: uuid.UUID, location_id: uuid.UUID, lock: bool
) -> tuple[list[OrderLine], PickCatalogue]:
    """Every line of the order (fresh; `lock`: FOR UPDATE) with its SKU, its place on this
    location's pick path and its substitute's SKU — what a pick step and its ticket need, in one
    statement. All lines, not only this location's: repricing sums the whole order."""
    lines: list[OrderLine] = []
    skus: dict[uuid.UUID, Sku] = {}
    path: dict[uuid.UUID, tuple[int, str, str]] = {}
    rows = session.execute(_LINES_TO_PICK[lock], {"order_id": order_id, "location_id": location_id})
    for line, sku, sequence, bin_, sub in rows:
        lines.append(line)
        skus[sku.id] = sku
        path[sku.id] = (int(sequence), str(bin_), sku.code)
        if sub is not None:
            skus[sub.id] = sub
    return lines, PickCatalogue(skus, path)


# --- idempotency ---------------------------------------------------------------------------------


def delete_keys_before(session: Session, *, cutoff: datetime, limit: int) -> int:
    result = session.execute(
        text(
            "DELETE FROM checkout_idempotency_keys WHERE ctid IN ("
            " SELECT ctid FROM checkout_idempotency_keys WHERE created_at < :cutoff LIMIT :limit)"
        ),
        {"cutoff": cutoff, "limit": limit},
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- orders -----------------------------------------------------------------------------------


def insert_rows(session: Session, rows: Sequence[Base]) -> None:
    """Write new rows of one model in a single multi-row INSERT, from objects whose every column
    is set (Python-side defaults do not apply here). The checkout writes an order this way: the
    unit of work's bookkeeping costs more than the INSERTs themselves on the hottest path. The
    objects stay outside the session (they are only read afterwards, to render the response)."""
    if not rows:
        return
    table: Table = type(rows[0]).__table__  # type: ignore[assignment]
    columns = [c for c in table.columns if c.computed is None]
    session.execute(insert(table), [{c.key: getattr(row, c.key) for c in columns} for row in rows])


def lock_order(session: Session, order_id: uuid.UUID) -> Order | None:
    """The order row, locked: every change of an order starts here (then stock, in level order)."""
    return session.scalar(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    )


_LOCK_ORDER_PARTS = (
    select(Order, OrderFulfilment)
    .join(OrderFulfilment, OrderFulfilment.order_id == Order.id)
    .where(Order.id == bindparam("order_id"))
    .order_by(OrderFulfilment.location_id)
    .with_for_update(of=Order)
    .execution_options(populate_existing=True)
)


def lock_order_parts(session: Session, order_id: uuid.UUID) -> tuple[Order, list[OrderFulfilment]] | None:
    """The order row, locked, with all its fulfilments (fresh), in one statement: what every
    pick step starts with (which part is mine, is the order split, are all parts packed)."""
    found = [(order, part) for order, part in session.execute(_LOCK_ORDER_PARTS, {"order_id": order_id})]
    if not found:
        return None
    return found[0][0], [part for _, part in found]


def get_order(session: Session, order_id: uuid.UUID) -> Order | None:
    return session.get(Order, order_id)


def fulfilments_of(session: Session, order_ids: Collection[uuid.UUID]) -> list[OrderFulfilment]:
    if not order_ids:
        return []
    return list(
        session.scalars(
            select(OrderFulfilment)
            .where(OrderFulfilment.order_id.in_(list(order_ids)))
            .order_by(OrderFulfilment.order_id, OrderFulfilment.location_id)
        )
    )


def lines_of(session: Session, order_ids: Collection[uuid.UUID]) -> list[OrderLine]:
    if not order_ids:
        return []
    return list(
        session.scalars(
            select(OrderLine)
            .where(OrderLine.order_id.in_(list(order_ids)))
            .order_by(OrderLine.order_id, OrderLine.line_no)
        )
    )


def lock_line(session: Session, *, order_id: uuid.UUID, line_no: int) -> OrderLine | None:
    return session.scalar(
        select(OrderLine)
        .where(OrderLine.order_id == order_id, OrderLine.line_no == line_no)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def customer_orders(session: Session, *, customer_id: uuid.UUID, limit: int, offset: int) -> tuple[list[Order], int]:
    total = session.scalar(select(func.count()).select_from(Order).where(Order.customer_id == customer_id)) or 0
    rows = session.scalars(
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.placed_at.desc(), Order.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total)


def open_fulfilments(session: Session, *, location_id: uuid.UUID, limit: int) -> list[OrderFulfilment]:
    """The location's pick list: work not yet packed, the courier expected soonest first."""
    f = OrderFulfilment
    return list(
        session.scalars(
            select(f)
            .where(f.location_id == location_id, f.status.in_([FulfilmentStatus.pending, FulfilmentStatus.picking]))
            .order_by(f.courier_expected_at, f.created_at, f.id)
            .limit(limit)
        )
    )


def orders_by_id(session: Session, order_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Order]:
    if not order_ids:
        return {}
    return {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(list(order_ids))))}
