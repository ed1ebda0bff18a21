"""Coordinates are validated before anything stores them; GeoJSON is always [lon, lat]."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from core.geo import GeoPoint, geometry_from_geojson, geometry_to_geojson, haversine_m

lats = st.floats(min_value=-90, max_value=90, allow_nan=False)
lons = st.floats(min_value=-180, max_value=180, allow_nan=False)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(91, 0), (-90.0001, 0), (0, 180.5), (0, -181), (math.nan, 0), (0, math.inf), (-math.inf, 0)],
)
def test_points_out_of_range_or_not_finite_are_rejected(lat: float, lon: float) -> None:
    with pytest.raises(ValidationError):
        GeoPoint(lat=lat, lon=lon)


def test_strings_are_not_coerced_into_coordinates() -> None:
    with pytest.raises(ValidationError):
        GeoPoint.model_validate({"lat": "52.5", "lon": 13.4})
    with pytest.raises(ValidationError):
        GeoPoint.model_validate_json('{"lat": "52.5", "lon": 13.4}')


def test_json_nan_and_infinity_are_rejected() -> None:
    for raw in ('{"lat": NaN, "lon": 1}', '{"lat": 1, "lon": Infinity}'):
        with pytest.raises(ValidationError):
            GeoPoint.model_validate_json(raw)


@given(lats, lons)
def test_geojson_round_trip_keeps_lat_and_lon_apart(lat: float, lon: float) -> None:
    point = GeoPoint(lat=lat, lon=lon)
    geojson = point.to_geojson()
    assert geojson["coordinates"] == [lon, lat]
    back = geometry_from_geojson(geometry_to_geojson(point.to_shapely()))
    assert GeoPoint.from_lonlat(back.x, back.y) == point


def test_haversine_matches_a_known_distance() -> None:
    # One degree of latitude is about 111.2 km everywhere.
    d = haversine_m(GeoPoint(lat=10, lon=20), GeoPoint(lat=11, lon=20))
    assert 111_100 < d < 111_300


@given(lats, lons, lats, lons)
def test_haversine_is_symmetric_and_non_negative(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> None:
    a, b = GeoPoint(lat=a_lat, lon=a_lon), GeoPoint(lat=b_lat, lon=b_lon)
    assert haversine_m(a, b) == pytest.approx(haversine_m(b, a))
    assert 0 <= haversine_m(a, b) <= math.pi * 6_371_008.8 + 1
