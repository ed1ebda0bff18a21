"""The one way stock levels change: a guarded UPDATE and its ledger line, in one transaction.

Every service (picking, releases, receipts, counts, transfers) goes through `move`, so the
ledger replays to the levels by construction. The one other writer is the reservation hot path
(`warehouse.hold_repository`), which runs the same guard and writes its ledger line in the
same statement. The UPDATE carries its own condition, so two concurrent buyers of the last
unit cannot both succeed (the second one's UPDATE re-checks the row after the first commits
and matches nothing), and the table's CHECK constraint is a second wall behind it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from core import clock
from warehouse.errors import InsufficientStock, UnknownStockLevel
from warehouse.models import MovementKind

_GUARDED_UPDATE = text(
    """
    UPDATE stock_levels
       SET on_hand = on_hand + :dh, reserved = reserved + :dr, updated_at = now()
     WHERE location_id = :loc AND sku_id = :sku
       AND reserved + :dr >= 0
       AND on_hand + :dh >= reserved + :dr
    RETURNING on_hand, reserved
    """
)

_INSERT_MOVEMENT = text(
    """
    INSERT INTO stock_movements
        (location_id, sku_id, kind, on_hand_delta, reserved_delta, reason, ref_id, actor_id, created_at)
    VALUES (:loc, :sku, :kind, :dh, :dr, :reason, :ref, :actor, :at)
    """
)

_UPSERT_LEVEL = text(
    """
    INSERT INTO stock_levels (location_id, sku_id, on_hand, reserved, reorder_point, target_level, bin, updated_at)
    VALUES (:loc, :sku, 0, 0, 0, 0, '', now())
    ON CONFLICT (location_id, sku_id) DO NOTHING
    """
)


@dataclass(frozen=True, slots=True)
class Level:
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def move(
    session: Session,
    *,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    kind: MovementKind,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    reason: str = "",
    ref_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    create_level: bool = False,
) -> Level:
    """Apply one movement; raise `InsufficientStock` (nothing changed) if it would break
    `0 ≤ reserved ≤ on_hand`. `create_level` lets inbound movements start a new stock row."""
    if on_hand_delta == 0 and reserved_delta == 0:
        raise ValueError("a movement must move something")
    params = {"loc": location_id, "sku": sku_id, "dh": on_hand_delta, "dr": reserved_delta}
    if create_level:
        session.execute(_UPSERT_LEVEL, {"loc": location_id, "sku": sku_id})
    row = session.execute(_GUARDED_UPDATE, params).one_or_none()
    if row is None:
        exists = session.execute(
            text("SELECT on_hand, reserved FROM stock_levels WHERE location_id = :loc AND sku_id = :sku"),
            {"loc": location_id, "sku": sku_id},
        ).one_or_none()
        if exists is None:
            raise UnknownStockLevel("This location does not stock this SKU.", sku_id=str(sku_id))
        raise InsufficientStock(
            "Not enough stock for this movement.",
            sku_id=str(sku_id),
            location_id=str(location_id),
            on_hand=exists.on_hand,
            reserved=exists.reserved,
            available=exists.on_hand - exists.reserved,
        )
    session.execute(
        _INSERT_MOVEMENT,
        {
            **params,
            "kind": kind.value,
            "reason": reason[:200],
            "ref": ref_id,
            "actor": actor_id,
            "at": clock.now(),
        },
    )
    return Level(on_hand=row.on_hand, reserved=row.reserved)
