"""Shared checks of the stock invariants, used by the service, concurrency and stateful tests."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from warehouse.models import StockLevel

_REPLAY = text(
    """
    SELECT l.location_id, l.sku_id, l.on_hand, l.reserved,
           coalesce(m.on_hand, 0) AS replay_on_hand, coalesce(m.reserved, 0) AS replay_reserved,
           coalesce(r.held, 0) AS held
      FROM stock_levels l
      LEFT JOIN (SELECT location_id, sku_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
                   FROM stock_movements GROUP BY location_id, sku_id) m USING (location_id, sku_id)
      LEFT JOIN (SELECT location_id, sku_id, sum(qty) AS held
                   FROM stock_reservations WHERE status = 'active' GROUP BY location_id, sku_id) r
             USING (location_id, sku_id)
    """
)


def assert_stock_invariants(session: Session, *, reservations_cover_reserved: bool = True) -> None:
    """0 ≤ reserved ≤ on_hand; the ledger replays to every level; and (when every hold went
    through `warehouse.reservations`) the active reservations add up to `reserved`."""
    for row in session.execute(_REPLAY):
        where = f"level {row.location_id}/{row.sku_id}"
        assert 0 <= row.reserved <= row.on_hand, f"{where}: reserved {row.reserved}, on_hand {row.on_hand}"
        assert (row.replay_on_hand, row.replay_reserved) == (row.on_hand, row.reserved), f"{where}: ledger differs"
        if reservations_cover_reserved:
            assert row.held == row.reserved, f"{where}: active holds {row.held} ≠ reserved {row.reserved}"


def level_of(session: Session, location_id: object, sku_id: object) -> tuple[int, int]:
    level = session.get(StockLevel, (location_id, sku_id), populate_existing=True)
    return (level.on_hand, level.reserved) if level is not None else (0, 0)
