"""Validated coordinates and GeoJSON helpers.

PostGIS `geography` silently wraps lat 100 / lon 200 and stores NaN, so every coordinate is
checked here before it reaches the database (and again by CHECK constraints in the tables).
GeoJSON is always `[lon, lat]`; our own types always say `lat`/`lon` by name.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.8


class GeoPoint(BaseModel):
    """A WGS84 point. Strict: numbers only (no "52.1" strings), finite, in range."""

    model_config = ConfigDict(frozen=True, strict=True)

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)

    def to_geojson(self) -> dict[str, Any]:
        return {"type": "Point", "coordinates": [self.lon, self.lat]}

    def to_wkt(self) -> str:
        return f"SRID=4326;POINT({self.lon!r} {self.lat!r})"

    def to_shapely(self) -> ShapelyPoint:
        return ShapelyPoint(self.lon, self.lat)

    @classmethod
    def from_lonlat(cls, lon: float, lat: float) -> GeoPoint:
        return cls(lat=float(lat), lon=float(lon))


def is_valid_lat_lon(lat: float, lon: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def haversine_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in metres."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def geometry_from_geojson(obj: dict[str, Any]) -> BaseGeometry:
    """Parse a GeoJSON geometry (not a Feature) into shapely, without repairing anything."""
    return shape(obj)


def geometry_to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    return dict(mapping(geom))


def feature(geometry: dict[str, Any], properties: dict[str, Any], feature_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Feature", "geometry": geometry, "properties": properties}
    if feature_id is not None:
        out["id"] = feature_id
    return out


def feature_collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}
