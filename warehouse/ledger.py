"""The one way stock levels change: a guarded UPDATE and its ledger line, in one transaction.

Every service (picking, releases, receipts, counts, transfers) goes through `move` (or
`move_many`, the same for a batch in one statement), so the ledger replays to the levels by
construction. The one other writer is the reservation hot path
(`warehouse.hold_repository`), which runs the same guard and writes its ledger line in the
same statement. The UPDATE carries its own condition, so two concurrent buyers of the last
unit cannot both succeed (the second one's UPDATE re-checks the row after the first commits
and matches nothing), and the table's CHECK constraint is a second wall behind it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, text
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


# `move` for many movements in one statement: each level changes once, by the net of its
# movements, and only if every level of the batch passes the guard (NOT EXISTS below) — a batch
# that cannot be applied whole changes nothing, as one `move` that fails changes nothing. The
# ledger lines are written only when every level moved, in the order given.
_MOVE_MANY = text(
    """
    WITH m AS (
        SELECT * FROM unnest(CAST(:locs AS uuid[]), CAST(:skus AS uuid[]), CAST(:kinds AS text[]),
                             CAST(:dhs AS int[]), CAST(:drs AS int[]), CAST(:reasons AS text[]),
                             CAST(:refs AS uuid[]), CAST(:actors AS uuid[]))
                 WITH ORDINALITY AS m(loc, sku, kind, dh, dr, reason, ref, actor, n)
    ),
    net AS (SELECT loc, sku, sum(dh) AS dh, sum(dr) AS dr FROM m GROUP BY loc, sku),
    moved AS (
        UPDATE stock_levels l
           SET on_hand = l.on_hand + net.dh, reserved = l.reserved + net.dr, updated_at = now()
          FROM net
         WHERE l.location_id = net.loc AND l.sku_id = net.sku
           AND l.reserved + net.dr >= 0 AND l.on_hand + net.dh >= l.reserved + net.dr
           AND NOT EXISTS (
               SELECT 1 FROM net n
                 LEFT JOIN stock_levels s ON s.location_id = n.loc AND s.sku_id = n.sku
                WHERE s.location_id IS NULL OR s.reserved + n.dr < 0 OR s.on_hand + n.dh < s.reserved + n.dr)
        RETURNING l.location_id
    ),
    logged AS (
        INSERT INTO stock_movements
            (location_id, sku_id, kind, on_hand_delta, reserved_delta, reason, ref_id, actor_id, created_at)
        SELECT loc, sku, kind, dh, dr, reason, ref, actor, :at FROM m
         WHERE (SELECT count(*) FROM moved) = (SELECT count(*) FROM net)
         ORDER BY n
    )
    SELECT (SELECT count(*) FROM moved) AS moved, (SELECT count(*) FROM net) AS levels
    """
)


@dataclass(frozen=True, slots=True)
class Movement:
    """One ledger line to write with `move_many` (the arguments of one `move`)."""

    location_id: uuid.UUID
    sku_id: uuid.UUID
    kind: MovementKind
    on_hand_delta: int = 0
    reserved_delta: int = 0
    reason: str = ""
    ref_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None


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
        raise _short(location_id, sku_id, _level(session, location_id, sku_id))
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


def move_many(session: Session, movements: Sequence[Movement]) -> None:
    """Apply several movements in one statement, all or none; the caller holds their levels.

    Each level changes once, by the net of its movements, and the guard of `move` applies to
    that net change — the only state of the level anyone else can ever see. (A batch that
    mixes signs on one level, say a release and a new hold, is therefore checked as a whole,
    not step by step.) Raises `UnknownStockLevel` / `InsufficientStock` for the first level,
    in (location, sku) order, that refused; then nothing changed.
    """
    if not movements:
        return
    if any(m.on_hand_delta == 0 and m.reserved_delta == 0 for m in movements):
        raise ValueError("a movement must move something")
    row = session.execute(
        _MOVE_MANY,
        {
            "locs": [m.location_id for m in movements],
            "skus": [m.sku_id for m in movements],
            "kinds": [m.kind.value for m in movements],
            "dhs": [m.on_hand_delta for m in movements],
            "drs": [m.reserved_delta for m in movements],
            "reasons": [m.reason[:200] for m in movements],
            "refs": [m.ref_id for m in movements],
            "actors": [m.actor_id for m in movements],
            "at": clock.now(),
        },
    ).one()
    if row.moved != row.levels:
        _refuse(session, movements)


def _refuse(session: Session, movements: Sequence[Movement]) -> None:
    """Name the first level that could not take its net change (only ever on the error path)."""
    net: dict[tuple[uuid.UUID, uuid.UUID], tuple[int, int]] = {}
    for m in movements:
        dh, dr = net.get((m.location_id, m.sku_id), (0, 0))
        net[(m.location_id, m.sku_id)] = (dh + m.on_hand_delta, dr + m.reserved_delta)
    for (location_id, sku_id), (dh, dr) in sorted(net.items()):
        found = _level(session, location_id, sku_id)
        if found.reserved + dr < 0 or found.on_hand + dh < found.reserved + dr:
            raise _short(location_id, sku_id, found)
    raise InsufficientStock("Not enough stock for these movements.")  # a level changed meanwhile


def _level(session: Session, location_id: uuid.UUID, sku_id: uuid.UUID) -> Row[Any]:
    """The level as it stands (to explain a refused movement); UnknownStockLevel if there is none."""
    found = session.execute(
        text("SELECT on_hand, reserved FROM stock_levels WHERE location_id = :loc AND sku_id = :sku"),
        {"loc": location_id, "sku": sku_id},
    ).one_or_none()
    if found is None:
        raise UnknownStockLevel("This location does not stock this SKU.", sku_id=str(sku_id))
    return found


def _short(location_id: uuid.UUID, sku_id: uuid.UUID, level: Row[Any]) -> InsufficientStock:
    return InsufficientStock(
        "Not enough stock for this movement.",
        sku_id=str(sku_id),
        location_id=str(location_id),
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.on_hand - level.reserved,
    )
