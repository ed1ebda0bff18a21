"""Stock alerts: what operators must see (stock-outs, replenishment the network cannot fill).

One open alert per (location, sku, kind). Raising an open alert again only refreshes its figures;
an alert is resolved by whoever next sees that its cause has gone away (replenishment runs, a
receipt, the minute sweep). Opening and resolving are announced through the outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence

from sqlalchemy.orm import Session

from core import clock
from core.events import emit
from warehouse import alert_repository as repo
from warehouse import transfer_repository
from warehouse.models import AlertKind
from warehouse.transfer_repository import Candidate
from warehouse.transfer_schemas import MAX_PAGE, StockAlertOut, StockAlertPage


def raise_alert(
    session: Session,
    *,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    kind: AlertKind,
    detail: str = "",
    shortfall: int = 0,
) -> bool:
    """Open the alert (or refresh the open one). Returns True if it was newly opened."""
    opened = repo.upsert_open_alert(
        session,
        location_id=location_id,
        sku_id=sku_id,
        kind=kind,
        detail=detail,
        shortfall=max(0, shortfall),
        at=clock.now(),
    )
    if opened:
        emit(
            session,
            "stock_alert.raised",
            {
                "location_id": str(location_id),
                "sku_id": str(sku_id),
                "kind": kind.value,
                "shortfall": shortfall,
                "detail": detail[:300],
            },
        )
    return opened


def resolve_alerts(
    session: Session, *, location_id: uuid.UUID, sku_ids: Sequence[uuid.UUID], kind: AlertKind
) -> list[uuid.UUID]:
    """Resolve open alerts of `kind` for these SKUs; returns the SKUs that had one."""
    resolved = repo.resolve_open_alerts(session, location_id=location_id, sku_ids=sku_ids, kind=kind, at=clock.now())
    for sku_id in resolved:
        emit(
            session,
            "stock_alert.resolved",
            {"location_id": str(location_id), "sku_id": str(sku_id), "kind": kind.value},
        )
    return resolved


def sync_stock_outs(session: Session, *, location_id: uuid.UUID, levels: Iterable[Candidate]) -> list[uuid.UUID]:
    """Open or resolve stock-out alerts for these levels; returns the SKUs that are out.

    A stock-out is nothing left to sell of a SKU the location is meant to carry. A level with
    target 0 is not ranged there (delisted, or only a row a receipt created), so an empty shelf
    is expected and not worth an operator's attention.
    """
    out: list[uuid.UUID] = []
    fine: list[uuid.UUID] = []
    for level in levels:
        (out if level.target_level > 0 and level.available <= 0 else fine).append(level.sku_id)
    for sku_id in out:
        raise_alert(
            session,
            location_id=location_id,
            sku_id=sku_id,
            kind=AlertKind.stock_out,
            detail="Nothing left to sell at this location.",
        )
    # One statement for all the healthy ones: most runs look at many more of those.
    resolve_alerts(session, location_id=location_id, sku_ids=fine, kind=AlertKind.stock_out)
    return out


def refresh_stock_outs(session: Session, *, location_id: uuid.UUID, sku_ids: Collection[uuid.UUID]) -> list[uuid.UUID]:
    """Re-evaluate stock-out alerts for these SKUs from their current levels."""
    levels = transfer_repository.replenishment_candidates(session, location_id=location_id, sku_ids=sku_ids)
    return sync_stock_outs(session, location_id=location_id, levels=levels)


def list_open_alerts(
    session: Session,
    *,
    kinds: Collection[AlertKind] = (),
    location_id: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> StockAlertPage:
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    views, total = repo.list_open_alerts(session, kinds=kinds, location_id=location_id, limit=limit, offset=offset)
    items = [
        StockAlertOut(
            id=v.id,
            location_id=v.location_id,
            location_code=v.location_code,
            sku_id=v.sku_id,
            sku_code=v.sku_code,
            kind=v.kind,
            detail=v.detail,
            shortfall=v.shortfall,
            created_at=v.created_at,
        )
        for v in views
    ]
    return StockAlertPage(items=items, total=total, limit=limit, offset=offset)
