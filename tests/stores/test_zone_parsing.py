"""The cheap first pass over positions and zones, before anything reaches PostGIS."""

from __future__ import annotations

import math

import pytest

from core.geo import GeoPoint
from stores.errors import InvalidCoordinates, InvalidZone, InvalidZoneType, ZoneTooComplex
from stores.zones import MAX_VERTICES, parse_position, parse_zone, swapped_point

RING = [[13.38, 52.51], [13.43, 52.51], [13.43, 52.53], [13.38, 52.53], [13.38, 52.51]]


def test_a_position_is_validated_like_a_geopoint() -> None:
    assert parse_position({"lat": 52.5, "lon": 13}) == GeoPoint(lat=52.5, lon=13.0)
    for bad in ({"lat": math.nan, "lon": 0}, {"lat": 0, "lon": -math.inf}, {"lat": "1", "lon": 2}, {"lat": 1}):
        with pytest.raises(InvalidCoordinates):
            parse_position(bad)


def test_a_swapped_twin_exists_only_when_the_longitude_could_be_a_latitude() -> None:
    assert swapped_point(GeoPoint(lat=52.5, lon=13.4)) == GeoPoint(lat=13.4, lon=52.5)
    assert swapped_point(GeoPoint(lat=35.0, lon=139.0)) is None


def test_a_polygon_is_normalised_to_a_flat_multipolygon() -> None:
    zone = parse_zone({"type": "Polygon", "coordinates": [[[*p, 0] for p in RING]]})
    assert zone.geometry == {"type": "MultiPolygon", "coordinates": [[RING]]}
    assert zone.vertices == 5
    assert zone.locally_valid


def test_the_swapped_geometry_exchanges_every_position() -> None:
    zone = parse_zone({"type": "Polygon", "coordinates": [RING]})
    twin = zone.swapped_geometry()
    assert twin is not None
    assert twin["coordinates"][0][0][0] == [52.51, 13.38]
    far = parse_zone({"type": "Polygon", "coordinates": [[[170, 1], [171, 1], [171, 2], [170, 1]]]})
    assert far.swapped_geometry() is None


def test_an_unclosed_ring_is_not_closed_for_you() -> None:
    # shapely would close it silently; the upload must say what it means.
    with pytest.raises(InvalidZone, match="not closed"):
        parse_zone({"type": "Polygon", "coordinates": [RING[:-1]]})


def test_a_bowtie_passes_the_structure_check_but_not_the_local_validity_check() -> None:
    bowtie = [[13.0, 52.0], [13.1, 52.1], [13.1, 52.0], [13.0, 52.1], [13.0, 52.0]]
    assert not parse_zone({"type": "Polygon", "coordinates": [bowtie]}).locally_valid


def test_the_vertex_cap_is_checked_before_positions_are_parsed() -> None:
    # Positions that are not even numbers: the size alone is enough to refuse.
    ring = [["x", "y"]] * (MAX_VERTICES + 1)
    with pytest.raises(ZoneTooComplex):
        parse_zone({"type": "Polygon", "coordinates": [ring]})


@pytest.mark.parametrize("raw", [None, [], "Polygon", {"type": "Feature"}, {"type": "MultiPoint", "coordinates": []}])
def test_only_polygons_and_multipolygons_are_zones(raw) -> None:
    with pytest.raises(InvalidZoneType):
        parse_zone(raw)
