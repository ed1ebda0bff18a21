"""Checks on positions and service zones that need no database (the cheap first pass).

Nothing here repairs input. shapely would silently close an unclosed ring and PostGIS's
`ST_MakeValid` would turn a bowtie into two triangles the operator never drew; either would
store a zone that differs from the one uploaded, so every defect is reported instead. The
authoritative validity check (`ST_IsValidReason`) and the checks against the existing network
run in PostGIS afterwards (see `stores.service.set_zone`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from pydantic import ValidationError

from core.geo import GeoPoint, geometry_from_geojson
from stores.errors import InvalidCoordinates, InvalidZone, InvalidZoneType, ZoneTooComplex

# Far more than any hand-drawn or generated delivery area needs, and small enough that
# validating and indexing one upload stays cheap.
MAX_VERTICES = 10_000
ZONE_TYPES = ("Polygon", "MultiPolygon")

Position = list[float]
Ring = list[Position]
PolygonCoords = list[Ring]


def parse_position(raw: GeoPoint | Mapping[str, Any]) -> GeoPoint:
    """A validated point, or `InvalidCoordinates`: numbers only, finite, lat ±90, lon ±180."""
    if isinstance(raw, GeoPoint):
        return raw
    try:
        return GeoPoint.model_validate(dict(raw))
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        # A latitude beyond ±90 next to a longitude that would be a fine latitude is the classic
        # [lon, lat] versus (lat, lon) mix-up; say so rather than only "out of range".
        if _looks_swapped(raw.get("lat"), raw.get("lon")):
            problems.append("lat and lon look swapped")
        raise InvalidCoordinates(
            "The position must be {lat, lon} as finite numbers with lat in [-90, 90] and lon in [-180, 180]: "
            + "; ".join(problems),
            problems=problems,
        ) from None


def _looks_swapped(lat: Any, lon: Any) -> bool:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in (lat, lon))
    return numbers and abs(lat) > 90 and abs(lon) <= 90


def swapped_point(point: GeoPoint) -> GeoPoint | None:
    """The point with lat and lon exchanged, when that is a position at all."""
    if abs(point.lon) > 90:
        return None
    return GeoPoint(lat=point.lon, lon=point.lat)


@dataclass(frozen=True, slots=True)
class ZoneInput:
    """A structurally sound zone: 2-D, closed rings, coordinates in range, not too large."""

    polygons: list[PolygonCoords]
    vertices: int
    # GEOS's opinion, computed locally: an invalid zone is never handed to PostGIS's topology
    # functions (which may throw on it), only to `ST_IsValidReason`, which has the last word.
    locally_valid: bool

    @property
    def geometry(self) -> dict[str, Any]:
        """Always a MultiPolygon, the type the column stores."""
        return {"type": "MultiPolygon", "coordinates": self.polygons}

    def swapped_geometry(self) -> dict[str, Any] | None:
        """The zone with lat and lon exchanged in every position, when all of them stay in range."""
        if any(abs(lon) > 90 for polygon in self.polygons for ring in polygon for lon, _lat in ring):
            return None
        swapped = [[[[lat, lon] for lon, lat in ring] for ring in polygon] for polygon in self.polygons]
        return {"type": "MultiPolygon", "coordinates": swapped}


def _geometry_of(raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise InvalidZoneType("A zone is a GeoJSON Polygon or MultiPolygon (or a Feature holding one).")
    if raw.get("type") == "Feature":
        geometry = raw.get("geometry")
        if not isinstance(geometry, Mapping):
            raise InvalidZoneType("The Feature has no geometry; a zone is a Polygon or MultiPolygon.")
        return geometry
    return raw


def _position(raw: Any, where: str) -> Position:
    if not isinstance(raw, list) or len(raw) not in (2, 3):
        raise InvalidZone(f"{where}: a position is [lon, lat] (optionally with an altitude), got {raw!r:.60}.")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw):
        raise InvalidCoordinates(f"{where}: coordinates must be numbers, got {raw!r:.60}.")
    lon, lat = float(raw[0]), float(raw[1])
    if not (math.isfinite(lon) and math.isfinite(lat)) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidCoordinates(
            f"{where}: [{lon}, {lat}] is not a position; GeoJSON is [lon, lat] with lon in [-180, 180]"
            " and lat in [-90, 90].",
            position=[lon, lat] if math.isfinite(lon) and math.isfinite(lat) else None,
        )
    # An altitude says nothing about a delivery area; the zone is stored flat.
    return [lon, lat]


def _ring(raw: Any, where: str) -> Ring:
    if not isinstance(raw, list):
        raise InvalidZone(f"{where}: a ring is a list of positions.")
    if len(raw) < 4:
        raise InvalidZone(f"{where}: a ring needs at least 4 positions (3 corners and the first one again).")
    ring = [_position(p, f"{where}[{i}]") for i, p in enumerate(raw)]
    if ring[0] != ring[-1]:
        raise InvalidZone(f"{where}: the ring is not closed; its last position must repeat the first.")
    return ring


def _polygon(raw: Any, where: str) -> PolygonCoords:
    if not isinstance(raw, list) or not raw:
        raise InvalidZone(f"{where}: a polygon is a non-empty list of rings (outer ring first, then holes).")
    return [_ring(r, f"{where}[{i}]") for i, r in enumerate(raw)]


def _count_vertices(polygons: list[Any]) -> int:
    # Counted before any position is parsed so that an oversized upload costs little.
    total = 0
    for polygon in polygons:
        for ring in polygon if isinstance(polygon, list) else ():
            total += len(ring) if isinstance(ring, list) else 0
    return total


def parse_zone(raw: Any) -> ZoneInput:
    """Check a GeoJSON zone's type, structure and coordinates; raise a coded error or return it."""
    geometry = _geometry_of(raw)
    kind = geometry.get("type")
    if kind not in ZONE_TYPES:
        raise InvalidZoneType(
            f"A zone must be a Polygon or MultiPolygon, not {str(kind)[:40]!r}.", geometry_type=str(kind)[:40]
        )
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or not coordinates:
        raise InvalidZone("The zone's coordinates must be a non-empty list.")
    raw_polygons = [coordinates] if kind == "Polygon" else coordinates
    vertices = _count_vertices(raw_polygons)
    if vertices > MAX_VERTICES:
        raise ZoneTooComplex(
            f"The zone has {vertices} positions; at most {MAX_VERTICES} are accepted. Simplify it first.",
            vertices=vertices,
            max_vertices=MAX_VERTICES,
        )
    prefix = "coordinates" if kind == "Polygon" else "coordinates[{}]"
    polygons = [_polygon(p, prefix.format(i)) for i, p in enumerate(raw_polygons)]
    shape = geometry_from_geojson({"type": "MultiPolygon", "coordinates": polygons})
    return ZoneInput(polygons=polygons, vertices=vertices, locally_valid=bool(shapely.is_valid(shape)))
