"""The synthetic city: deterministic, connected for every profile, crossable only at its bridges."""

from __future__ import annotations

import numpy as np
import pytest

from routing.profiles import HIGHWAY_CLASSES, VEHICLE_PROFILES
from routing.street_graph import StreetGraph
from routing.synthetic_city import SyntheticCity, build_city, size_km_for_nodes, synthetic_city
from routing.travel import haversine_m
from routing.types import PROFILES, Point


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    return build_city(11, 3.0)


def _river_side(city: SyntheticCity, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """-1 south of the river's centre line, +1 north (the river runs west to east)."""
    river_lat = np.interp(lon, [p.lon for p in city.river], [p.lat for p in city.river])
    return np.asarray(np.sign(lat - river_lat))


def test_same_seed_same_city_other_seed_other_city() -> None:
    assert synthetic_city(5, 2.0).fingerprint() == synthetic_city(5, 2.0).fingerprint()
    assert synthetic_city(5, 2.0).fingerprint() != synthetic_city(6, 2.0).fingerprint()


def test_centre_and_size(city: SyntheticCity) -> None:
    net = synthetic_city(1, 2.0, center=(21.88, -102.29))
    assert float(net.lat.mean()) == pytest.approx(21.88, abs=0.002)
    assert float(net.lon.mean()) == pytest.approx(-102.29, abs=0.002)
    width = haversine_m(*(np.array([v]) for v in (21.88, net.lon.min(), 21.88, net.lon.max())))[0]
    assert 1_900 < width < 2_100
    assert city.network.node_count > 0.9 * 31 * 31  # a 30 x 30 block grid, minus river and gaps


def test_every_profile_graph_is_all_of_its_streets(city: SyntheticCity) -> None:
    net = city.network
    graph = StreetGraph(net)
    assert graph.node_count("bike") == net.node_count  # bikes reach every node
    for profile in PROFILES:
        usable = VEHICLE_PROFILES[profile].speed_table()[net.highway] > 0
        touched = np.unique(np.concatenate([net.u[usable], net.v[usable]]))
        assert graph.node_count(profile) == len(touched), profile


def test_the_city_has_its_features(city: SyntheticCity) -> None:
    net = city.network
    classes = {HIGHWAY_CLASSES[h] for h in np.unique(net.highway)}
    assert {"primary", "secondary", "tertiary", "residential", "footway", "cycleway"} <= classes
    assert 0.05 < net.oneway.mean() < 0.4
    assert net.bike_contraflow.any()
    assert not (net.bike_contraflow & ~net.oneway).any()


def test_the_river_is_crossed_only_at_the_bridges(city: SyntheticCity) -> None:
    net = city.network
    side = _river_side(city, net.lat, net.lon)
    crossing = np.flatnonzero(side[net.u] != side[net.v])
    assert crossing.tolist() == city.bridges.tolist()
    assert len(city.bridges) == 3  # default for 3 km: 2 road bridges, plus the foot/cycle bridge
    assert HIGHWAY_CLASSES[net.highway[city.bridges[-1]]] == "cycleway"


def test_straight_line_is_badly_wrong_across_the_river(city: SyntheticCity) -> None:
    net = city.network
    foot = city.bridges[-1]  # far from the road bridges by construction
    lat_a, lat_b = sorted((float(net.lat[net.u[foot]]), float(net.lat[net.v[foot]])))
    lon = float(net.lon[net.u[foot]])
    south, north = Point(lat_a - 0.0003, lon), Point(lat_b + 0.0003, lon)
    straight = haversine_m(*(np.array([v]) for v in (south.lat, south.lon, north.lat, north.lon)))[0]
    graph = StreetGraph(net)
    car = graph.matrices([south, north], "car")
    bike = graph.matrices([south, north], "bike")
    assert car.distances[0, 1] > 3 * straight  # round by a road bridge
    assert bike.distances[0, 1] < 1.5 * straight  # straight over the foot/cycle bridge
    assert car.distances[1, 0] > 3 * straight


def test_size_for_a_node_count() -> None:
    net = synthetic_city(2, size_km_for_nodes(5_000))
    assert net.node_count == pytest.approx(5_000, rel=0.05)


@pytest.mark.parametrize(
    ("size_km", "kwargs"),
    [(0.2, {}), (float("nan"), {}), (2.0, {"block_m": 1.0}), (2.0, {"center": (95.0, 0.0)})],
)
def test_bad_arguments_raise(size_km: float, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        synthetic_city(0, size_km, **kwargs)  # type: ignore[arg-type]
