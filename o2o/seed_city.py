"""Where the seeded city lies: a local tangent plane around its centre, lattices and round zones in it.

Metres east/north of the centre are what the placement logic thinks in; `City.at` turns them into
WGS84 points. The plane is accurate to well under a metre over a city-sized box.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidInput
from core.geo import GeoPoint
from o2o.osm_extent import osm_bbox
from stores.zones import parse_position

DEFAULT_CENTER = (52.52, 13.405)  # Berlin, Alexanderplatz
CITY_HALF_SIDE_M = 5_500.0
MAX_ZONE_RADIUS_M = 3_000.0
M_PER_DEG = 111_195.0


@dataclass(frozen=True, slots=True)
class City:
    center: GeoPoint
    half_width_m: float
    half_height_m: float

    def at(self, east_m: float, north_m: float) -> GeoPoint:
        lat = self.center.lat + north_m / M_PER_DEG
        lon = self.center.lon + east_m / (M_PER_DEG * math.cos(math.radians(self.center.lat)))
        return GeoPoint(lat=lat, lon=lon)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        south_west, north_east = (
            self.at(-self.half_width_m, -self.half_height_m),
            self.at(self.half_width_m, self.half_height_m),
        )
        return (south_west.lat, south_west.lon, north_east.lat, north_east.lon)


def circle(city: City, east_m: float, north_m: float, radius_m: float, rng: random.Random) -> dict[str, object]:
    """A 32-gon around a point, counter-clockwise and closed, its radius wobbling by a few per cent."""
    ring = []
    for i in range(32):
        angle = 2 * math.pi * i / 32
        r = radius_m * rng.uniform(0.97, 1.03)
        p = city.at(east_m + r * math.cos(angle), north_m + r * math.sin(angle))
        ring.append([p.lon, p.lat])
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def lattice(city: City, count: int) -> tuple[list[tuple[float, float]], float]:
    """`count` points of a hexagonal lattice filling the city box from the centre out, and the spacing."""
    area = 4 * city.half_width_m * city.half_height_m
    spacing = min(math.sqrt(area / (count * math.sqrt(3) / 2)), MAX_ZONE_RADIUS_M / 0.9)
    while True:
        row_height = spacing * math.sqrt(3) / 2
        rows = int(city.half_height_m // row_height)
        cols = int(city.half_width_m // spacing) + 1
        points = [
            (spacing * (col + (0.5 if row % 2 else 0.0)), row * row_height)
            for row in range(-rows, rows + 1)
            for col in range(-cols, cols + 1)
        ]
        inside = [(x, y) for x, y in points if abs(x) <= city.half_width_m and abs(y) <= city.half_height_m]
        if len(inside) >= count:
            # Nearest the centre relative to the box, so an oblong city gets an oblong cluster.
            inside.sort(key=lambda p: (max(abs(p[0]) / city.half_width_m, abs(p[1]) / city.half_height_m), p))
            return inside[:count], spacing
        spacing *= 0.9


def city_for(center: tuple[float, float] | None, osm: Path | None) -> City:
    if osm is not None:
        south, west, north, east = osm_bbox(osm)
        middle = GeoPoint(lat=(south + north) / 2, lon=(west + east) / 2)
        half_w = (east - west) / 2 * M_PER_DEG * math.cos(math.radians(middle.lat))
        half_h = (north - south) / 2 * M_PER_DEG
        return City(middle, max(half_w, 1_000.0), max(half_h, 1_000.0))
    lat, lon = center or DEFAULT_CENTER
    point = parse_position({"lat": lat, "lon": lon})
    if abs(point.lat) > 80 or abs(point.lon) > 179:
        raise InvalidInput("Pick a centre away from the poles and the antimeridian.", code="invalid_coordinates")
    return City(point, CITY_HALF_SIDE_M, CITY_HALF_SIDE_M)
