"""`GET /customer/orders/{order_id}/share/city.geojson`: the map behind a share link.

Someone the customer sent a tracking link has no account, so the city map (`/ops/city.geojson`)
is closed to them. This route reads the share token instead — from a header, never the URL, so
it stays out of server and proxy logs like the fragment it comes from — and answers with what the
link already implies: the city's streets and the store the order comes from. Other stores, zones,
couriers and customers are not in it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response

from core.http.deps import DbSession, Public
from core.http.geojson import GEOJSON, geojson_response
from dispatch import city_map

router = APIRouter(prefix="/customer", tags=["customer: tracking"])
SHARE_HEADER = "X-Share-Token"


@router.get(
    "/orders/{order_id}/share/city.geojson",
    dependencies=[Public],
    response_class=Response,
    responses={
        200: {"content": {GEOJSON: {}}},
        401: {"description": "`invalid_share` (absent, forged or another order's token) or `share_expired`"},
    },
)
def shared_city(
    order_id: uuid.UUID,
    session: DbSession,
    x_share_token: Annotated[str | None, Header(description="The token of the share link")] = None,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    """Streets and the order's store(s) for a share-link viewer (docs/tracking.md)."""
    body = city_map.share_geojson(session, order_id=order_id, token=x_share_token)
    return geojson_response(body, accept_encoding, vary=SHARE_HEADER)
