"""`/customer/catalogue`: what can be delivered to a point now, at what price, by when."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from core.auth.models import Role
from core.auth.tokens import Principal
from core.http.deps import DbSession, allow
from dispatch import catalogue
from dispatch.schemas import MAX_PAGE, Catalogue

router = APIRouter(prefix="/customer", tags=["customer: catalogue"])

Customer = Annotated[Principal, Depends(allow(Role.customer))]


@router.get("/catalogue")
def browse_catalogue(
    session: DbSession,
    principal: Customer,
    lat: Annotated[float, Query(description="Delivery point, WGS84 latitude.")],
    lon: Annotated[float, Query(description="Delivery point, WGS84 longitude.")],
    q: Annotated[str | None, Query(max_length=100, description="Text in the SKU's code or name.")] = None,
    category: Annotated[uuid.UUID | None, Query(description="A category id (its subcategories included).")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Catalogue:
    """SKUs with price and availability from the locations whose zones cover the point, and the
    promised delivery window. Outside every zone: 422 `outside_service_area`."""
    del principal
    return catalogue.browse(
        session, position={"lat": lat, "lon": lon}, query=q, category_id=category, limit=limit, offset=offset
    )
