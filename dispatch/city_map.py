"""The city as one map layer for the web pages: its streets, and the locations and zones a reader may see.

Streets come from the street graph dispatch plans with (an OpenStreetMap extract, or a graph a
simulation plugged in); else from the seeded city's generated streets, which the composition root
names with `use_seeded_city_streets` (the streets the demo's simulated couriers ride on), when they
cover every location; else from a street grid generated over the network's extent, always with
the same seed, so that every API process serves the same picture. `streets_source` says which.

Streets are merged per highway class into one MultiLineString each and coordinates rounded to
~1 m: a city of ~6,000 junctions fits in a few hundred kilobytes instead of two megabytes of
one-feature-per-segment GeoJSON.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any, Final

import numpy as np
from shapely.geometry import shape
from sqlalchemy.orm import Session

from dispatch import repository, tracking_share
from dispatch.street_travel import travel_times
from routing.street_network import StreetNetwork, network_geojson
from routing.synthetic_city import synthetic_city
from routing.travel import METRES_PER_DEGREE
from stores import service as network_service

SIMPLIFY_M: Final = 3.0
DECIMALS: Final = 5  # ~1.1 m of latitude
_SYNTHETIC_SEED: Final = 0
_MARGIN_KM: Final = 1.0
_MAX_SIDE_KM: Final = 30.0
_MAX_BLOCKS: Final = 80  # per side: at most ~6,400 junctions for a generated grid
_EMPTY: Final[dict[str, Any]] = {"type": "FeatureCollection", "features": []}
# What customers, couriers and staff see: the places that serve customers. Warehouses,
# distribution centres' zones and closed locations are operators' business.
_PUBLIC_KINDS: Final = frozenset({"store", "dark_store"})
# A share-link viewer has no account: they get the streets and the order's own store(s) with
# only what identifies them on the map, nothing about the network or other customers.
_SHARED_PROPERTIES: Final = ("feature", "name", "kind")
_MAX_SHARE_TOKEN: Final = 4_096

SeededStreets = Callable[[], StreetNetwork]
_seeded_streets: SeededStreets | None = None


def use_seeded_city_streets(provider: SeededStreets | None) -> None:
    """Name the streets of the seeded city (built lazily, on the first map asked for)."""
    global _seeded_streets
    _seeded_streets = provider


def city_geojson(session: Session, *, operator: bool) -> dict[str, Any]:
    """Streets (one feature per highway class), then zones, then location points."""
    network = network_service.network_geojson(session)
    features = [f for f in network["features"] if operator or _is_public(f)]
    streets, source = _streets(network["features"])
    return {
        "type": "FeatureCollection",
        "properties": {"streets_source": source},
        "features": [*streets["features"], *features],
    }


def share_geojson(session: Session, *, order_id: uuid.UUID, token: str | None) -> dict[str, Any]:
    """The map of someone holding the order's share link: streets (the same as every other
    reader's) and the store(s) the order comes from. An absent, forged, foreign or expired token
    raises `InvalidShare` / `ShareExpired` (401)."""
    if not token or len(token) > _MAX_SHARE_TOKEN:
        raise tracking_share.InvalidShare("This map needs the share link's token.")
    tracking_share.verify(session, token=token, order_id=order_id)
    stores = {str(f.location_id) for f in repository.fulfilments_of(session, [order_id])}
    network = network_service.network_geojson(session)
    streets, source = _streets(network["features"])
    points = [
        {
            "type": "Feature",
            "geometry": f["geometry"],
            "properties": {k: f["properties"][k] for k in _SHARED_PROPERTIES},
        }
        for f in network["features"]
        if f["properties"].get("feature") == "location" and f["properties"]["id"] in stores
    ]
    return {
        "type": "FeatureCollection",
        "properties": {"streets_source": source},
        "features": [*streets["features"], *points],
    }


def _is_public(feature: dict[str, Any]) -> bool:
    props = feature["properties"]
    if props.get("feature") == "location":
        return bool(props["active"]) and props["kind"] in _PUBLIC_KINDS
    # Zone features carry the location's kind and active flag as well.
    return bool(props.get("active", True)) and props.get("kind") in _PUBLIC_KINDS


def _network_points(features: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """(lat, lon) corners of every location and zone: the streets must reach the zones' edges."""
    points: list[tuple[float, float]] = []
    for f in features:
        west, south, east, north = shape(f["geometry"]).bounds
        points += [(south, west), (north, east)]
    return points


def _streets(features: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    graph_network: StreetNetwork | None = getattr(travel_times(), "network", None)
    if isinstance(graph_network, StreetNetwork):
        return _merged_streets(graph_network), "street_graph"
    locations = [f["geometry"]["coordinates"] for f in features if f["properties"].get("feature") == "location"]
    if _seeded_streets is not None and locations:
        seeded = _seeded_network(_seeded_streets)
        if _covers(seeded, locations):
            return _merged_streets(seeded), "seeded_city"
    points = _network_points(features)
    if not points:
        return _EMPTY, "none"
    return _synthetic_streets(*_extent(points)), "synthetic"


@cache  # per provider: the seeded city is generated once per process
def _seeded_network(provider: SeededStreets) -> StreetNetwork:
    return provider()


def _covers(network: StreetNetwork, lonlats: list[list[float]]) -> bool:
    if not network.node_count:
        return False
    lons, lats = [p[0] for p in lonlats], [p[1] for p in lonlats]
    return bool(
        network.lat.min() <= min(lats)
        and max(lats) <= network.lat.max()
        and network.lon.min() <= min(lons)
        and max(lons) <= network.lon.max()
    )


def _extent(points: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Centre (rounded, so that small edits do not regenerate the city) and side in km."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    lat0, lon0 = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2
    km_per_degree = METRES_PER_DEGREE / 1000
    height_km = (max(lats) - min(lats)) * km_per_degree
    width_km = (max(lons) - min(lons)) * km_per_degree * math.cos(math.radians(lat0))
    side = min(_MAX_SIDE_KM, math.ceil(max(height_km, width_km) + 2 * _MARGIN_KM))
    return round(lat0, 3), round(lon0, 3), float(side)


@lru_cache(maxsize=4)
def _synthetic_streets(lat: float, lon: float, side_km: float) -> dict[str, Any]:
    block_m = max(100.0, side_km * 1000 / _MAX_BLOCKS)
    return _merged_streets(synthetic_city(_SYNTHETIC_SEED, side_km, center=(lat, lon), block_m=block_m))


@lru_cache(maxsize=2)  # per network object (compared by identity): merged once per process
def _merged_streets(network: StreetNetwork) -> dict[str, Any]:
    lines = network_geojson(network, np.arange(network.segment_count), SIMPLIFY_M)
    by_class: dict[str, list[list[list[float]]]] = {}
    for feature in lines["features"]:
        coords = [[round(x, DECIMALS), round(y, DECIMALS)] for x, y in feature["geometry"]["coordinates"]]
        by_class.setdefault(feature["properties"]["highway"], []).append(coords)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "MultiLineString", "coordinates": parts},
                "properties": {"feature": "streets", "highway": highway},
            }
            for highway, parts in sorted(by_class.items())
        ],
    }
