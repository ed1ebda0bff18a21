"""The TravelTimes protocol, the Haversine fallback and the profile tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from routing.profiles import HIGHWAY_CLASSES, VEHICLE_PROFILES, VehicleProfile, check_profile, directed_edges
from routing.street_graph import StreetGraph
from routing.synthetic_city import synthetic_city
from routing.travel import (
    EARTH_RADIUS_M,
    UNREACHABLE_M,
    UNREACHABLE_S,
    Haversine,
    TravelTimes,
    haversine_m,
    pairwise_haversine_m,
)
from routing.types import Point

# One degree of latitude along a meridian is exactly R·π/180 on a sphere.
DEGREE_M = EARTH_RADIUS_M * math.pi / 180


def test_haversine_along_a_meridian_and_the_equator() -> None:
    a, b, c = Point(0.0, 0.0), Point(1.0, 0.0), Point(0.0, 1.0)
    d = pairwise_haversine_m([a, b, c])
    assert d[0, 1] == pytest.approx(DEGREE_M, rel=1e-12)
    assert d[0, 2] == pytest.approx(DEGREE_M, rel=1e-12)
    assert np.array_equal(d, d.T)
    assert np.all(np.diag(d) == 0)


def test_haversine_antipodes_are_half_the_circumference() -> None:
    half = haversine_m(np.array([0.0]), np.array([0.0]), np.array([0.0]), np.array([180.0]))
    assert half[0] == pytest.approx(math.pi * EARTH_RADIUS_M)


def test_haversine_matrices_apply_detour_and_speed() -> None:
    points = [Point(0.0, 0.0), Point(0.01, 0.0)]
    metres = 0.01 * DEGREE_M * 1.5
    m = Haversine(detour_factor=1.5, speed_mps=5.0).matrices(points, "car")
    assert m.distances.dtype == np.int64
    assert m.durations.dtype == np.int64
    assert m.distances[0, 1] == round(metres)
    assert m.durations[1, 0] == round(metres / 5.0)
    assert m.durations[0, 0] == 0


def test_haversine_speed_per_profile_overrides_defaults() -> None:
    h = Haversine(speed_mps={"bike": 2.0})
    points = [Point(0.0, 0.0), Point(0.01, 0.0)]
    bike, car = h.matrices(points, "bike"), h.matrices(points, "car")
    assert bike.distances[0, 1] == car.distances[0, 1]
    assert bike.durations[0, 1] == round(0.01 * DEGREE_M * 1.3 / 2.0)
    assert car.durations[0, 1] == round(0.01 * DEGREE_M * 1.3 / 8.0)  # the default car speed


@pytest.mark.parametrize(
    ("detour", "speed"),
    [(0.0, 5.0), (-1.0, 5.0), (math.nan, 5.0), (1.3, 0.0), (1.3, math.inf), (1.3, {"car": -1.0})],
)
def test_haversine_rejects_bad_parameters(detour: float, speed: float | dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Haversine(detour, speed)  # type: ignore[arg-type]


def test_unknown_profile_is_rejected_everywhere() -> None:
    with pytest.raises(ValueError, match="unknown profile"):
        check_profile("truck")
    with pytest.raises(ValueError):
        Haversine().matrices([Point(0, 0)], "truck")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Haversine().path(Point(0, 0), Point(0, 1), "walk")  # type: ignore[arg-type]


def test_haversine_path_is_the_straight_line() -> None:
    a, b = Point(1.0, 2.0), Point(1.5, 2.5)
    assert Haversine().path(a, b, "bike") == [a, b]


def test_both_implementations_satisfy_the_protocol() -> None:
    # mypy checks the structural match at these calls; the run checks they give real trips.
    def first_leg(travel: TravelTimes, a: Point, b: Point) -> tuple[int, int]:
        m = travel.matrices([a, b], "bike")
        path = travel.path(a, b, "bike")
        assert path[0] == a
        assert path[-1] == b
        return int(m.durations[0, 1]), int(m.distances[0, 1])

    network = synthetic_city(0, 0.6)
    a = Point(float(network.lat.min()), float(network.lon.min()))
    b = Point(float(network.lat.max()), float(network.lon.max()))
    for travel in (Haversine(), StreetGraph(network)):
        seconds, metres = first_leg(travel, a, b)
        assert 0 < seconds < UNREACHABLE_S
        assert metres >= haversine_m(*(np.array([v]) for v in (a.lat, a.lon, b.lat, b.lon)))[0] - 1


def test_sentinels_survive_a_long_integer_sum() -> None:
    # A route is a sum of legs; a million unreachable legs must not overflow int64.
    total = np.full(1_000_000, UNREACHABLE_S, dtype=np.int64).sum()
    assert total == UNREACHABLE_S * 1_000_000
    assert UNREACHABLE_S > 10 * 365 * 86_400
    assert UNREACHABLE_M > 40_075_000  # longer than the equator


def test_profiles_know_only_real_highway_classes() -> None:
    with pytest.raises(ValueError, match="unknown highway"):
        VehicleProfile("car", {"autobahn": 30.0}, 3.0, False)
    with pytest.raises(ValueError, match="positive"):
        VehicleProfile("car", {"residential": 0.0}, 3.0, False)
    assert "steps" not in VEHICLE_PROFILES["bike"].speeds_mps  # bikes never ride steps
    assert "footway" not in VEHICLE_PROFILES["car"].speeds_mps
    assert "motorway" not in VEHICLE_PROFILES["scooter"].speeds_mps


def test_directed_edges_follow_one_way_and_contraflow_rules() -> None:
    code = np.array([HIGHWAY_CLASSES.index("residential")] * 2, dtype=np.int64)
    kwargs = {
        "u": np.array([0, 1], dtype=np.int64),
        "v": np.array([1, 2], dtype=np.int64),
        "highway": code,
        "oneway": np.array([True, True]),
        "bike_contraflow": np.array([True, False]),
        "access": np.array([7, 7], dtype=np.uint8),
    }
    car_src, car_dst, _ = directed_edges(VEHICLE_PROFILES["car"], **kwargs)
    bike_src, bike_dst, _ = directed_edges(VEHICLE_PROFILES["bike"], **kwargs)
    assert sorted(zip(car_src.tolist(), car_dst.tolist(), strict=True)) == [(0, 1), (1, 2)]
    assert sorted(zip(bike_src.tolist(), bike_dst.tolist(), strict=True)) == [(0, 1), (1, 0), (1, 2)]
