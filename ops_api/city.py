"""`/ops/city.geojson` and `/ops/board.geojson`: the map layers the web pages draw.

The city map (streets, stores, zones) is readable by every signed-in role: customers pick their
door on it and couriers ride on it. Streets are public data and store positions and delivery
zones are what any delivery app shows its customers; distribution centres, the warehouse and
closed locations are shown to dispatchers and admins only. The board (couriers, open orders,
planned routes) is operators' information and stays with them. Someone holding only a share
link reads the streets through `customer_api.share_map` instead.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Header, Response

from core.auth.models import Role
from core.auth.tokens import Principal
from core.http.deps import DbSession, allow
from core.http.geojson import GEOJSON, geojson_response
from dispatch import city_map, ops_board

router = APIRouter(prefix="/ops", tags=["ops: map"])
Anyone = Annotated[Principal, Depends(allow(*Role))]
Operator = Annotated[Principal, Depends(allow(Role.dispatcher, Role.admin))]
OPERATORS: Final = frozenset({Role.dispatcher, Role.admin})


@router.get("/city.geojson", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def city(
    session: DbSession,
    me: Anyone,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    """Streets (a MultiLineString per highway class), service zones and locations; `properties.
    streets_source` says whether streets are the routing graph's or a generated grid."""
    body = city_map.city_geojson(session, operator=me.role in OPERATORS)
    return geojson_response(body, accept_encoding, vary="Authorization")


@router.get("/board.geojson", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def board(
    session: DbSession,
    _: Operator,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    """Couriers not offline (with `status`), open orders' doors (with `late`), planned routes."""
    return geojson_response(ops_board.board_geojson(session), accept_encoding, vary="Authorization")
