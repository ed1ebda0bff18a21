"""The geo look-ups the checkout builds on: who covers a point, who is near, and staff scoping."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

import pytest

from core.errors import NotFound
from core.geo import GeoPoint, haversine_m
from stores import service
from stores.errors import LocationNotFound
from stores.models import LocationKind
from tests.factories import create_location, square_zone

CUSTOMER = GeoPoint(lat=52.52, lon=13.405)


def north_of(point: GeoPoint, metres: float) -> GeoPoint:
    return GeoPoint(lat=point.lat + metres / 111_195, lon=point.lon)


def east_of(point: GeoPoint, metres: float) -> GeoPoint:
    return GeoPoint(lat=point.lat, lon=point.lon + metres / (111_195 * math.cos(math.radians(point.lat))))


def covering_store(db_session, at: GeoPoint, **kwargs):
    # A zone big enough (±0.1°, about 11 km north-south) to cover the customer from anywhere used here.
    return create_location(
        db_session, lat=at.lat, lon=at.lon, zone=square_zone(CUSTOMER.lat, CUSTOMER.lon, 0.1), **kwargs
    )


def codes(found) -> list[str]:
    return [candidate.location.code for candidate in found]


def test_candidates_are_the_covering_locations_nearest_first_with_distances(db_session) -> None:
    far = covering_store(db_session, north_of(CUSTOMER, 3_000), code="C-FAR")
    near = covering_store(db_session, east_of(CUSTOMER, 800), code="C-NEAR", kind=LocationKind.dark_store)
    middle = covering_store(db_session, north_of(CUSTOMER, -1_500), code="C-MID", kind=LocationKind.distribution_centre)
    found = service.candidates_covering(db_session, CUSTOMER, limit=10)
    assert codes(found) == ["C-NEAR", "C-MID", "C-FAR"]
    distances = [candidate.distance_m for candidate in found]
    assert distances == sorted(distances)
    for candidate, location in zip(found, (near, middle, far), strict=True):
        expected = haversine_m(CUSTOMER, GeoPoint(lat=location.lat, lon=location.lon))
        assert candidate.distance_m == pytest.approx(expected, abs=1.0)


def test_candidates_are_limited(db_session) -> None:
    for metres in (500, 1_000, 1_500, 2_000):
        covering_store(db_session, north_of(CUSTOMER, metres), code=f"LIM-{metres}")
    assert codes(service.candidates_covering(db_session, CUSTOMER, limit=2)) == ["LIM-500", "LIM-1000"]


def test_inactive_non_covering_zoneless_and_back_office_locations_are_not_candidates(db_session) -> None:
    covering_store(db_session, north_of(CUSTOMER, 100), code="X-INACTIVE", active=False)
    # Right next door, but its zone is elsewhere.
    create_location(
        db_session, lat=CUSTOMER.lat, lon=CUSTOMER.lon + 0.001, zone=square_zone(52.60, 13.60, 0.02), code="X-ELSEWHERE"
    )
    create_location(db_session, lat=CUSTOMER.lat, lon=CUSTOMER.lon, with_zone=False, code="X-NOZONE")
    covering_store(db_session, north_of(CUSTOMER, 50), code="X-CW", kind=LocationKind.central_warehouse)
    covering_store(db_session, north_of(CUSTOMER, 60), code="X-STATION", kind=LocationKind.delivery_station)
    covering_store(db_session, north_of(CUSTOMER, 5_000), code="X-OK")
    assert codes(service.candidates_covering(db_session, CUSTOMER, limit=10)) == ["X-OK"]


def test_a_point_on_a_zone_corner_is_covered_and_one_outside_is_not(db_session) -> None:
    create_location(db_session, lat=52.52, lon=13.405, zone=square_zone(52.52, 13.405, 0.02), code="EDGE")
    corner = GeoPoint(lat=52.50, lon=13.385)
    assert codes(service.candidates_covering(db_session, corner, limit=5)) == ["EDGE"]
    assert service.candidates_covering(db_session, GeoPoint(lat=52.60, lon=13.405), limit=5) == []


def test_the_candidate_limit_is_bounded(db_session) -> None:
    for limit in (0, 101):
        with pytest.raises(ValueError, match="limit"):
            service.candidates_covering(db_session, CUSTOMER, limit=limit)


def test_locations_near_filters_by_radius_kind_and_activity(db_session) -> None:
    create_location(db_session, lat=north_of(CUSTOMER, 400).lat, lon=CUSTOMER.lon, code="N-400", with_zone=False)
    create_location(
        db_session,
        lat=north_of(CUSTOMER, 900).lat,
        lon=CUSTOMER.lon,
        code="N-900",
        kind=LocationKind.delivery_station,
        with_zone=False,
    )
    create_location(
        db_session, lat=north_of(CUSTOMER, 950).lat, lon=CUSTOMER.lon, code="N-OFF", active=False, with_zone=False
    )
    create_location(db_session, lat=north_of(CUSTOMER, 3_000).lat, lon=CUSTOMER.lon, code="N-FAR", with_zone=False)
    assert codes(service.locations_near(db_session, CUSTOMER, radius_m=1_000)) == ["N-400", "N-900"]
    assert codes(service.locations_near(db_session, CUSTOMER, radius_m=1_000, active_only=False)) == [
        "N-400",
        "N-900",
        "N-OFF",
    ]
    stations = service.locations_near(db_session, CUSTOMER, radius_m=5_000, kinds=[LocationKind.delivery_station])
    assert codes(stations) == ["N-900"]
    assert stations[0].distance_m == pytest.approx(900, rel=0.01)


def test_get_location_is_a_404_for_unknown_ids(db_session) -> None:
    store = create_location(db_session)
    assert service.get_location(db_session, store.id) is store
    with pytest.raises(LocationNotFound) as raised:
        service.get_location(db_session, uuid.uuid4())
    assert isinstance(raised.value, NotFound)
    assert raised.value.status_code == 404


def test_is_open_reads_the_location_hours_in_its_time_zone(db_session) -> None:
    store = create_location(db_session)
    store.timezone = "Europe/Berlin"
    store.opening_hours = {"mon": [["08:00", "20:00"]], **{d: [] for d in ("tue", "wed", "thu", "fri", "sat", "sun")}}
    assert service.is_open_at(store, datetime(2026, 1, 5, 7, 30, tzinfo=UTC))
    assert not service.is_open_at(store, datetime(2026, 1, 5, 19, 30, tzinfo=UTC))
