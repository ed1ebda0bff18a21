"""What a customer at a point can order now: SKUs with price and what the nearby locations hold.

Availability is what one location could deliver (a line is never split between places), capped
at the SKU's per-order maximum; the delivery window is the soonest any covering location could
bring a small basket, by the same estimate the checkout uses.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from core import clock
from dispatch import candidates
from dispatch.checkout import WINDOW_S, ceil_minute
from dispatch.models import PlanKind
from dispatch.schemas import MAX_PAGE, Catalogue, CatalogueItem, Point, Window
from dispatch.travel import TravelEstimator, default_estimator
from stores.zones import parse_position
from warehouse import catalogue as skus


def browse(
    session: Session,
    *,
    position: dict[str, Any],
    query: str | None = None,
    category_id: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
    travel: TravelEstimator | None = None,
) -> Catalogue:
    if not 1 <= limit <= MAX_PAGE or not 0 <= offset <= 1_000_000:
        raise ValueError("limit 1–100, offset 0–1,000,000")
    point = parse_position(position)
    nearby = candidates.covering(session, point)
    if not nearby:
        candidates.outside(session, point)
    page = skus.list_skus(
        session, category_id=category_id, query=query or None, active=True, limit=limit, offset=offset
    )
    now = clock.now()
    pool, _skipped = candidates.build(
        session,
        nearby=nearby,
        covering_zone=True,
        point=point,
        sku_ids=[item.id for item in page.items],
        now=now,
        travel=travel or default_estimator(),
    )
    window = None
    if pool:
        start = ceil_minute(now + timedelta(seconds=min(c.door_s(1) for c in pool)))
        window = Window(start=start, end=start + timedelta(seconds=WINDOW_S[PlanKind.single]))
    items = []
    for item in page.items:
        best = max((c.available.get(item.id, 0) for c in pool), default=0)
        qty = min(best, item.max_order_qty)
        items.append(
            CatalogueItem(
                sku_id=item.id,
                code=item.code,
                name=item.name,
                category_id=item.category_id,
                price_minor=item.price_minor,
                currency=item.currency,
                temperature=item.temperature.value,
                max_order_qty=item.max_order_qty,
                available_qty=qty,
                available=qty > 0,
            )
        )
    return Catalogue(
        point=Point(lat=point.lat, lon=point.lon),
        delivery_window=window,
        locations=[near.site.code for near in nearby],
        items=items,
        total=page.total,
        limit=limit,
        offset=offset,
    )
