"""StreetGraph on the hand-written map tests/routing/data/small_town.osm.xml, against routes worked
out by hand (the map's comment draws it).

Nodes sit on a grid 0.0009° apart at the equator, so every street segment is L = R·0.0009·π/180
≈ 100.08 m (along the equator and along meridians alike, to 1e-9). Durations are segment lengths
over the speeds of routing.profiles: residential 25 km/h by car and scooter, 16 km/h by bike,
motorway 90, motorway link 50, footway 5 (pushing), access legs 10 km/h.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from routing._routable import DISTANCE_BITS
from routing.osm_import import read_osm
from routing.profiles import profile_bit
from routing.street_graph import StreetGraph
from routing.street_network import StreetNetwork
from routing.synthetic_city import synthetic_city
from routing.travel import EARTH_RADIUS_M, UNREACHABLE_M, UNREACHABLE_S
from routing.types import Point, Profile

DATA = Path(__file__).parent / "data"
D = 0.0009
L = EARTH_RADIUS_M * math.radians(D)
KMH = 1 / 3.6
RES_CAR = L / (25 * KMH)
RES_BIKE = L / (16 * KMH)
LINK = L / (50 * KMH)
MOTORWAY = 2 * L / (90 * KMH)  # nodes 11 -> 12 are two grid steps apart
FOOTWAY = L / (5 * KMH)
ACCESS = 10 * KMH


def node(row: float, col: float) -> Point:
    return Point(row * D, col * D)


N1, N3, N4, N6, N10 = node(0, 0), node(0, 2), node(1, 0), node(1, 2), node(1, 3)


@pytest.fixture(scope="module")
def town() -> StreetGraph:
    return StreetGraph(read_osm(DATA / "small_town.osm.xml"))


def test_car_matrix_matches_the_hand_computed_routes(town: StreetGraph) -> None:
    via_motorway = 2 * LINK + MOTORWAY  # 1 -> 11 -> 12 -> 3: faster than 1 -> 2 -> 3, but 4 L long
    seconds = [
        [0, via_motorway, RES_CAR, via_motorway + RES_CAR],  # from 1 (to 6: motorway, then 3 -> 6)
        [2 * RES_CAR, 0, 3 * RES_CAR, RES_CAR],  # from 3: the motorway is one-way, back by 3 -> 2 -> 1
        [RES_CAR, RES_CAR + via_motorway, 0, 2 * RES_CAR],  # from 4: east along the one-way street to 6
        [3 * RES_CAR, RES_CAR, 4 * RES_CAR, 0],  # from 6: 6 -> 5 is against the one-way, so round a block
    ]
    metres = [[0, 4, 1, 5], [2, 0, 3, 1], [1, 5, 0, 2], [3, 1, 4, 0]]  # in segments of L
    m = town.matrices([N1, N3, N4, N6], "car")
    assert m.durations.tolist() == np.rint(seconds).astype(int).tolist()
    assert m.distances.tolist() == np.rint(np.array(metres) * L).astype(int).tolist()


def test_one_way_street_forces_a_car_detour_but_not_a_contraflow_bike(town: StreetGraph) -> None:
    car, scooter, bike = (town.matrices([N6, N4], p) for p in ("car", "scooter", "bike"))
    assert car.distances[0, 1] == round(4 * L)  # 6 -> 3 -> 2 -> 1 -> 4 (or the same round the north)
    assert scooter.durations[0, 1] == round(4 * RES_CAR)  # scooters respect one-ways too
    assert bike.distances[0, 1] == round(2 * L)  # 6 -> 5 -> 4 against the one-way, allowed for bikes
    assert bike.durations[0, 1] == round(2 * RES_BIKE)
    assert car.durations[1, 0] == round(2 * RES_CAR)  # with the one-way, cars go straight


def test_motorway_is_for_cars_only(town: StreetGraph) -> None:
    assert town.matrices([N1, N3], "car").distances[0, 1] == round(4 * L)  # takes the motorway
    scooter, bike = town.matrices([N1, N3], "scooter"), town.matrices([N1, N3], "bike")
    assert scooter.durations[0, 1] == round(2 * RES_CAR)
    assert scooter.distances[0, 1] == round(2 * L)
    assert bike.durations[0, 1] == round(2 * RES_BIKE)


def test_footway_is_for_bikes_only(town: StreetGraph) -> None:
    bike = town.matrices([N10, N4], "bike")
    assert bike.durations[0, 1] == round(FOOTWAY + 2 * RES_BIKE)  # push along 10 -> 6, ride 6 -> 5 -> 4
    assert bike.distances[0, 1] == round(3 * L)
    assert town.path(N10, N4, "bike") == [N10, N10, N6, node(1, 1), N4, N4]
    # Node 10 is not in the car graph: a car starts at 6 after a straight access leg from 10.
    car = town.matrices([N10, N6], "car")
    assert car.durations[0, 1] == round(L / ACCESS)
    assert town.path(N10, N6, "car") == [N10, N6, N6]


def test_largest_strongly_connected_component_per_profile(town: StreetGraph) -> None:
    network = town.network
    # Cars: the grid and the motorway (11, 12); not the footway's 10, the dead end 13, the island.
    expected: dict[Profile, int] = {"car": 11, "scooter": 9, "bike": 10}
    assert {p: town.node_count(p) for p in expected} == expected
    dead_end = node(3, 2)
    nearest = town.snap([dead_end], "car")
    assert nearest[1][0] == pytest.approx(L)  # snapped to 9, one segment back
    nodes = town.prepare("car").nodes
    assert not np.any((network.lat[nodes] == dead_end.lat) & (network.lon[nodes] == dead_end.lon))


def test_access_legs_make_points_on_the_same_node_differ(town: StreetGraph) -> None:
    north_of_1, west_of_1 = node(1 / 3, 0), node(0, -1 / 3)  # both snap to node 1, L/3 away
    m = town.matrices([north_of_1, west_of_1, N3], "car")
    leg = L / 3
    assert m.durations[0, 1] == round(2 * leg / ACCESS)
    assert m.distances[0, 1] == round(2 * leg)
    assert m.durations[0, 2] == round(leg / ACCESS + 2 * LINK + MOTORWAY)
    assert m.distances[0, 2] == round(leg + 4 * L)


def test_identical_points_cost_nothing(town: StreetGraph) -> None:
    p = node(0.5, 0.5)
    m = town.matrices([p, p, N3], "bike")
    assert m.durations[0, 1] == 0
    assert m.distances[1, 0] == 0
    assert m.durations[0, 2] == m.durations[1, 2] > 0


def test_points_too_far_from_the_streets_are_unreachable() -> None:
    graph = StreetGraph(read_osm(DATA / "small_town.osm.xml"), max_snap_m=50)
    island = node(6, 1)  # 400 m from the nearest car street
    m = graph.matrices([N1, island, N3], "car")
    assert m.durations[0, 1] == UNREACHABLE_S
    assert m.durations[1, 2] == UNREACHABLE_S
    assert m.distances[1, 0] == UNREACHABLE_M
    assert m.durations[1, 1] == 0
    assert m.durations[0, 2] == round(2 * LINK + MOTORWAY)  # the others are unaffected
    assert graph.path(N1, island, "car") == []


def test_path_follows_the_fastest_route(town: StreetGraph) -> None:
    path = town.path(N6, N1, "car")
    assert path == [N6, N6, N3, node(0, 1), N1, N1]  # 6 -> 3 -> 2 -> 1, the only three-segment way
    assert town.path(N1, N1, "car") == [N1, N1]


def test_empty_and_single_point_lists(town: StreetGraph) -> None:
    assert town.matrices([], "bike").size == 0
    one = town.matrices([N1], "bike")
    assert one.durations.tolist() == [[0]]


def test_a_graph_without_streets_for_a_profile_finds_no_routes() -> None:
    network = read_osm(DATA / "small_town.osm.xml")
    bikes_only = np.full(network.segment_count, profile_bit("bike"), dtype=np.uint8)  # as if access=no for cars
    graph = StreetGraph(StreetNetwork.from_arrays({**network.to_arrays(), "access": bikes_only}))
    assert graph.node_count("car") == 0
    m = graph.matrices([N1, N3], "car")
    assert m.durations[0, 1] == UNREACHABLE_S
    assert graph.matrices([N1, N3], "bike").durations[0, 1] == round(2 * RES_BIKE)


def test_bad_options_are_rejected() -> None:
    network = read_osm(DATA / "small_town.osm.xml")
    with pytest.raises(ValueError):
        StreetGraph(network, engine="astar")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        StreetGraph(network, max_snap_m=-1)
    with pytest.raises(ValueError):
        StreetGraph(network).matrices([N1], "tram")  # type: ignore[arg-type]


@pytest.mark.parametrize("profile", ["bike", "car"])
def test_a_path_search_bounded_at_first_finds_the_same_route(profile: Profile) -> None:
    routable = StreetGraph(synthetic_city(2, 3.0)).prepare(profile)
    rng = np.random.default_rng(2)
    for source, target in rng.integers(0, routable.node_count, size=(40, 2)).tolist():
        full = routable.route(source, target)
        assert (full[0], full[-1]) == (source, target)
        # Bounds far too short (doubled twenty times and more), about right, and far too long.
        for seconds in (0.001, 60, 3600):
            assert routable.route(source, target, reach=seconds * 1000 * 2**DISTANCE_BITS) == full
