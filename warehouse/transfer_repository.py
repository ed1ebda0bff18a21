"""All SQL of transfers and replenishment planning (alerts: `warehouse.alert_repository`).

Level changes are not here: they go through `warehouse.ledger.move`, the only writer of
`stock_levels`. This module reads levels, locks them, and reads/writes transfers and alerts.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, text, union
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from stores.models import Location
from warehouse.models import Sku, StockAlert, StockLevel, Transfer, TransferLine, TransferStatus

# Transfers whose units are on their way to the destination, or promised to it.
OPEN_STATUSES = (TransferStatus.planned, TransferStatus.in_transit)
REPLENISHMENT = "replenishment"

# First key of the two-key advisory lock: keeps our keys apart from any other advisory lock
# in the database that happens to hash a location id too.
_REPLENISH_LOCK_NAMESPACE = 0x7E91


@dataclass(frozen=True, slots=True)
class Candidate:
    """A destination level as replenishment sees it, read in ONE statement together with what is
    already on its way: two reads could straddle a receipt's commit and count its units twice
    (or not at all)."""

    sku_id: uuid.UUID
    on_hand: int
    reserved: int
    reorder_point: int
    target_level: int
    incoming: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class LineView:
    sku_id: uuid.UUID
    sku_code: str
    sku_name: str
    qty: int
    qty_received: int | None


# --- locks ----------------------------------------------------------------------------------------


def lock_replenishment(session: Session, location_id: uuid.UUID) -> None:
    """Serialise replenishment planning (and receipts) per destination until the transaction ends.

    Two runs for one store (an event-driven task and the sweep, say) would otherwise both see
    the same shortfall and plan it twice. Transaction-scoped, so it can never leak.
    """
    session.execute(
        text("SELECT pg_advisory_xact_lock(CAST(:ns AS integer), hashtext(:key))"),
        {"ns": _REPLENISH_LOCK_NAMESPACE, "key": str(location_id)},
    )


def lock_available(session: Session, *, location_id: uuid.UUID, sku_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    """`on_hand − reserved` per SKU, rows locked in SKU order (the order every stock writer
    uses, so that multi-SKU lockers cannot deadlock each other)."""
    if not sku_ids:
        return {}
    rows = session.execute(
        select(StockLevel.sku_id, StockLevel.on_hand - StockLevel.reserved)
        .where(StockLevel.location_id == location_id, StockLevel.sku_id.in_(sku_ids))
        .order_by(StockLevel.sku_id)
        .with_for_update()
    ).all()
    return {sku_id: int(available) for sku_id, available in rows}


# --- locations and levels ---------------------------------------------------------------------------


def get_location(session: Session, location_id: uuid.UUID) -> Location | None:
    return session.get(Location, location_id)


def stock_policy(session: Session, *, location_id: uuid.UUID, sku_id: uuid.UUID) -> tuple[int, int] | None:
    """(reorder_point, target_level) of one level, or None if the location does not stock it."""
    row = session.execute(
        select(StockLevel.reorder_point, StockLevel.target_level).where(
            StockLevel.location_id == location_id, StockLevel.sku_id == sku_id
        )
    ).one_or_none()
    return None if row is None else (row.reorder_point, row.target_level)


def incoming_quantities(
    session: Session,
    *,
    statuses: Sequence[TransferStatus],
    location_ids: Collection[uuid.UUID] | None = None,
    sku_ids: Collection[uuid.UUID] | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """Σ line qty of transfers in `statuses`, per (destination, sku)."""
    stmt = (
        select(Transfer.to_location_id, TransferLine.sku_id, func.sum(TransferLine.qty))
        .join(Transfer, Transfer.id == TransferLine.transfer_id)
        .where(Transfer.status.in_(statuses))
        .group_by(Transfer.to_location_id, TransferLine.sku_id)
    )
    if location_ids is not None:
        stmt = stmt.where(Transfer.to_location_id.in_(location_ids))
    if sku_ids is not None:
        stmt = stmt.where(TransferLine.sku_id.in_(sku_ids))
    return {(loc, sku): int(qty) for loc, sku, qty in session.execute(stmt).all()}


def replenishment_candidates(
    session: Session, *, location_id: uuid.UUID, sku_ids: Collection[uuid.UUID] | None
) -> list[Candidate]:
    """The levels to look at: the given SKUs, or else those at/below their reorder point and
    those with an open alert (whose cause may have gone away)."""
    incoming = (
        select(TransferLine.sku_id, func.sum(TransferLine.qty).label("qty"))
        .join(Transfer, Transfer.id == TransferLine.transfer_id)
        .where(Transfer.to_location_id == location_id, Transfer.status.in_(OPEN_STATUSES))
        .group_by(TransferLine.sku_id)
        .subquery()
    )
    stmt = (
        select(
            StockLevel.sku_id,
            StockLevel.on_hand,
            StockLevel.reserved,
            StockLevel.reorder_point,
            StockLevel.target_level,
            func.coalesce(incoming.c.qty, 0),
        )
        .outerjoin(incoming, incoming.c.sku_id == StockLevel.sku_id)
        .where(StockLevel.location_id == location_id)
        .order_by(StockLevel.sku_id)
    )
    if sku_ids is None:
        alerted = select(StockAlert.sku_id).where(
            StockAlert.location_id == location_id, StockAlert.resolved_at.is_(None)
        )
        stmt = stmt.where(
            or_(
                and_(StockLevel.target_level > 0, StockLevel.on_hand - StockLevel.reserved <= StockLevel.reorder_point),
                StockLevel.sku_id.in_(alerted),
            )
        )
    else:
        stmt = stmt.where(StockLevel.sku_id.in_(sku_ids))
    return [Candidate(row[0], row[1], row[2], row[3], row[4], int(row[5])) for row in session.execute(stmt).all()]


def locations_to_sweep(session: Session) -> list[uuid.UUID]:
    """Active locations with a level at/below its reorder point, and any location with an open
    alert (so that alerts whose cause went away get resolved even if nothing else happens)."""
    low = (
        select(StockLevel.location_id)
        .join(Location, Location.id == StockLevel.location_id)
        .where(
            Location.active.is_(True),
            StockLevel.target_level > 0,
            StockLevel.on_hand - StockLevel.reserved <= StockLevel.reorder_point,
        )
    )
    alerted = select(StockAlert.location_id).where(StockAlert.resolved_at.is_(None))
    query = union(low, alerted).subquery()
    return list(session.scalars(select(query.c[0]).order_by(query.c[0])).all())


# --- transfers ----------------------------------------------------------------------------------


def get_transfer(session: Session, transfer_id: uuid.UUID, *, for_update: bool = False) -> Transfer | None:
    stmt = select(Transfer).where(Transfer.id == transfer_id)
    if for_update:
        # populate_existing: a copy already in the identity map must show the locked row's state.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


def open_replenishment_transfer(
    session: Session, *, from_location_id: uuid.UUID, to_location_id: uuid.UUID
) -> Transfer | None:
    """The planned replenishment transfer on this leg, locked, if there is one to top up.

    Under READ COMMITTED a transfer dispatched meanwhile is re-checked after the lock wait and
    no longer matches, so a run never adds lines to a truck that has left.
    """
    return session.scalars(
        select(Transfer)
        .where(
            Transfer.from_location_id == from_location_id,
            Transfer.to_location_id == to_location_id,
            Transfer.status == TransferStatus.planned,
            Transfer.reason == REPLENISHMENT,
        )
        .order_by(Transfer.planned_at, Transfer.id)
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def lines_of(session: Session, transfer_id: uuid.UUID) -> list[TransferLine]:
    """The lines as entities, in SKU order (the order their stock rows are then locked in)."""
    return list(
        session.scalars(
            select(TransferLine)
            .where(TransferLine.transfer_id == transfer_id)
            .order_by(TransferLine.sku_id)
            .execution_options(populate_existing=True)
        ).all()
    )


def get_line(session: Session, *, transfer_id: uuid.UUID, sku_id: uuid.UUID) -> TransferLine | None:
    return session.get(TransferLine, (transfer_id, sku_id))


def line_views(session: Session, transfer_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[LineView]]:
    if not transfer_ids:
        return {}
    rows = session.execute(
        select(
            TransferLine.transfer_id,
            TransferLine.sku_id,
            Sku.code,
            Sku.name,
            TransferLine.qty,
            TransferLine.qty_received,
        )
        .join(Sku, Sku.id == TransferLine.sku_id)
        .where(TransferLine.transfer_id.in_(transfer_ids))
        .order_by(TransferLine.transfer_id, Sku.code)
    ).all()
    out: dict[uuid.UUID, list[LineView]] = {tid: [] for tid in transfer_ids}
    for tid, sku_id, code, name, qty, received in rows:
        out[tid].append(LineView(sku_id, code, name, qty, received))
    return out


def list_transfers(
    session: Session,
    *,
    statuses: Collection[TransferStatus],
    from_location_id: uuid.UUID | None,
    to_location_id: uuid.UUID | None,
    short_only: bool,
    limit: int,
    offset: int,
) -> tuple[list[Transfer], int]:
    """One page, newest first, and the total matching count."""
    conditions: list[ColumnElement[bool]] = []
    if statuses:
        conditions.append(Transfer.status.in_(statuses))
    if from_location_id is not None:
        conditions.append(Transfer.from_location_id == from_location_id)
    if to_location_id is not None:
        conditions.append(Transfer.to_location_id == to_location_id)
    if short_only:
        short_line = select(TransferLine.transfer_id).where(
            TransferLine.transfer_id == Transfer.id, TransferLine.qty_received < TransferLine.qty
        )
        conditions.append(short_line.exists())
    total = session.scalar(select(func.count()).select_from(Transfer).where(*conditions)) or 0
    items = session.scalars(
        select(Transfer)
        .where(*conditions)
        .order_by(Transfer.planned_at.desc(), Transfer.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(items), int(total)
