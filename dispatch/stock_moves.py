"""The order domain's stock movements beyond reservations: locking an order's levels up front,
and putting picked goods back on the shelf when a packed order is cancelled.

Both belong in `warehouse` (requested there as `stock.restock(...)` and a public
`lock_levels(...)`); they live here, additive and small, until it offers them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.orm import Session

from warehouse import repository as warehouse_repo
from warehouse.ledger import move
from warehouse.models import MovementKind

Item = tuple[uuid.UUID, uuid.UUID, int]  # (location_id, sku_id, qty)


def lock_levels(session: Session, pairs: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Lock every level an operation will touch, in the one global (location, sku) order, before
    it touches any: several reservation calls in a row would otherwise lock them in an order of
    their own and could deadlock with a concurrent checkout."""
    warehouse_repo.lock_levels(session, pairs)


def return_to_shelf(
    session: Session, *, items: Iterable[Item], reason: str, ref_id: uuid.UUID, actor_id: uuid.UUID | None
) -> None:
    """Picked units back on the shelf: one `return` ledger line (+qty on hand) per item."""
    for location_id, sku_id, qty in sorted(items):
        if qty <= 0:
            continue
        move(
            session,
            location_id=location_id,
            sku_id=sku_id,
            kind=MovementKind.return_,
            on_hand_delta=qty,
            reason=reason[:200],
            ref_id=ref_id,
            actor_id=actor_id,
            create_level=True,
        )
