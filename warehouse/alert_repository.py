"""All SQL of stock alerts: one open alert per (location, sku, kind), kept so by a partial
unique index that the upsert below targets."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from stores.models import Location
from warehouse.models import AlertKind, Sku, StockAlert


@dataclass(frozen=True, slots=True)
class AlertView:
    id: uuid.UUID
    location_id: uuid.UUID
    location_code: str
    sku_id: uuid.UUID
    sku_code: str
    kind: AlertKind
    detail: str
    shortfall: int
    created_at: datetime


_UPSERT_ALERT = text(
    """
    INSERT INTO stock_alerts (id, location_id, sku_id, kind, detail, shortfall, created_at)
    VALUES (:id, :loc, :sku, :kind, :detail, :shortfall, :at)
    ON CONFLICT (location_id, sku_id, kind) WHERE resolved_at IS NULL
    DO UPDATE SET detail = EXCLUDED.detail, shortfall = EXCLUDED.shortfall
    RETURNING (xmax = 0) AS inserted
    """
)

_RESOLVE_ALERTS = text(
    """
    UPDATE stock_alerts SET resolved_at = :at
     WHERE location_id = :loc AND kind = :kind AND sku_id = ANY(:skus) AND resolved_at IS NULL
    RETURNING sku_id
    """
)


def upsert_open_alert(
    session: Session,
    *,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    kind: AlertKind,
    detail: str,
    shortfall: int,
    at: datetime,
) -> bool:
    """Open the alert or refresh the open one (the partial unique index keeps one open per
    location/sku/kind even under concurrency); True if it was newly opened."""
    inserted = session.execute(
        _UPSERT_ALERT,
        {
            "id": uuid.uuid4(),
            "loc": location_id,
            "sku": sku_id,
            "kind": kind.value,
            "detail": detail[:300],
            "shortfall": shortfall,
            "at": at,
        },
    ).scalar_one()
    return bool(inserted)


def resolve_open_alerts(
    session: Session, *, location_id: uuid.UUID, sku_ids: Sequence[uuid.UUID], kind: AlertKind, at: datetime
) -> list[uuid.UUID]:
    """Resolve the open alerts of this kind for these SKUs; returns the SKUs actually resolved."""
    if not sku_ids:
        return []
    rows = session.execute(_RESOLVE_ALERTS, {"loc": location_id, "kind": kind.value, "skus": list(sku_ids), "at": at})
    return [row.sku_id for row in rows]


def open_alerts_at(session: Session, *, location_id: uuid.UUID) -> list[tuple[uuid.UUID, AlertKind]]:
    rows = session.execute(
        select(StockAlert.sku_id, StockAlert.kind).where(
            StockAlert.location_id == location_id, StockAlert.resolved_at.is_(None)
        )
    ).all()
    return [(sku_id, kind) for sku_id, kind in rows]


def list_open_alerts(
    session: Session,
    *,
    kinds: Collection[AlertKind],
    location_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> tuple[list[AlertView], int]:
    conditions: list[ColumnElement[bool]] = [StockAlert.resolved_at.is_(None)]
    if kinds:
        conditions.append(StockAlert.kind.in_(kinds))
    if location_id is not None:
        conditions.append(StockAlert.location_id == location_id)
    total = session.scalar(select(func.count()).select_from(StockAlert).where(*conditions)) or 0
    rows = session.execute(
        select(
            StockAlert.id,
            StockAlert.location_id,
            Location.code,
            StockAlert.sku_id,
            Sku.code,
            StockAlert.kind,
            StockAlert.detail,
            StockAlert.shortfall,
            StockAlert.created_at,
        )
        .join(Location, Location.id == StockAlert.location_id)
        .join(Sku, Sku.id == StockAlert.sku_id)
        .where(*conditions)
        .order_by(StockAlert.created_at.desc(), StockAlert.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [AlertView(*row) for row in rows], int(total)
