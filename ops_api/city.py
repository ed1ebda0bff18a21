"""`/ops/city.geojson` and `/ops/board.geojson`: the map layers the web pages draw.

The city map (streets, stores, zones) is readable by every signed-in role: customers pick their
door on it and couriers ride on it. Streets are public data and store positions and delivery
zones are what any delivery app shows its customers; distribution centres, the warehouse and
closed locations are shown to dispatchers and admins only. The board (couriers, open orders,
planned routes) is operators' information and stays with them.
"""

from __future__ import annotations

import gzip
import json
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, Response

from core.auth.models import Role
from core.auth.tokens import Principal
from core.http.deps import DbSession, allow
from dispatch import city_map, ops_board

router = APIRouter(prefix="/ops", tags=["ops: map"])
Anyone = Annotated[Principal, Depends(allow(*Role))]
Operator = Annotated[Principal, Depends(allow(Role.dispatcher, Role.admin))]
OPERATORS: Final = frozenset({Role.dispatcher, Role.admin})
GEOJSON: Final = "application/geo+json"
_GZIP_FROM_BYTES: Final = 4_096


def _geojson(body: dict[str, Any], accept_encoding: str | None) -> Response:
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = {"Cache-Control": "private, max-age=30", "Vary": "Accept-Encoding, Authorization"}
    # The street layer is large and very compressible (~5x); the API has no gzip middleware.
    if len(data) >= _GZIP_FROM_BYTES and "gzip" in (accept_encoding or "").lower():
        data = gzip.compress(data, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(content=data, media_type=GEOJSON, headers=headers)


@router.get("/city.geojson", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def city(
    session: DbSession,
    me: Anyone,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    """Streets (a MultiLineString per highway class), service zones and locations; `properties.
    streets_source` says whether streets are the routing graph's or a generated grid."""
    return _geojson(city_map.city_geojson(session, operator=me.role in OPERATORS), accept_encoding)


@router.get("/board.geojson", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def board(
    session: DbSession,
    _: Operator,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    """Couriers not offline (with `status`), open orders' doors (with `late`), planned routes."""
    return _geojson(ops_board.board_geojson(session), accept_encoding)
