"""Reading OpenStreetMap XML: which ways become streets, their direction and access tags."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from routing.osm_import import access_mask, has_bike_contraflow, is_oneway, read_osm
from routing.profiles import HIGHWAY_CLASSES, profile_bit
from routing.street_graph import StreetGraph
from routing.types import Point

DATA = Path(__file__).parent / "data"
SHARED_OSM = Path(__file__).resolve().parents[3] / "shared" / "osm"


def _segments(path: Path) -> set[tuple[float, float, float, float, str, bool]]:
    """Segments as (lat_u, lon_u, lat_v, lon_v, highway, oneway): independent of node numbering."""
    n = read_osm(path)
    return {
        (n.lat[a], n.lon[a], n.lat[b], n.lon[b], HIGHWAY_CLASSES[h], bool(o))
        for a, b, h, o in zip(n.u.tolist(), n.v.tolist(), n.highway.tolist(), n.oneway.tolist(), strict=True)
    }


def test_small_town_keeps_streets_and_orients_one_ways() -> None:
    network = read_osm(DATA / "small_town.osm.xml")
    segments = _segments(DATA / "small_town.osm.xml")
    assert network.segment_count == 18  # 2 per grid way x 6, footway, dead end, 2 links, motorway, island
    assert network.node_count == 15  # every node of the file is on some street
    assert (0.0009, 0.0, 0.0009, 0.0009, "residential", True) in segments  # 4 -> 5, one-way east
    assert (-0.0009, 0.0, -0.0009, 0.0018, "motorway", True) in segments  # one-way by implication
    assert (0.0009, 0.0018, 0.0009, 0.0027, "footway", False) in segments
    assert int(network.bike_contraflow.sum()) == 2  # the two segments of way 102
    assert not any(s[4] == "building" for s in segments)


def test_clipped_extract_splits_ways_at_missing_nodes() -> None:
    segments = _segments(DATA / "clipped.osm.xml")
    pairs = {(s[1], s[3]) for s in segments}
    # 1-2 and 3-4 survive from way 201, 2-3 from way 203; nothing joins 2 and 3 by way 201.
    assert pairs == {(0.0, 0.0009), (0.0027, 0.0036), (0.0009, 0.0027)}
    assert {s[4] for s in segments if (s[1], s[3]) == (0.0009, 0.0027)} == {"tertiary"}


def test_oneway_tag_values() -> None:
    assert is_oneway({"highway": "residential", "oneway": "yes"})
    assert is_oneway({"highway": "residential", "oneway": "-1"})
    assert not is_oneway({"highway": "residential", "oneway": "no"})
    assert not is_oneway({"highway": "residential"})
    assert is_oneway({"highway": "primary", "junction": "roundabout"})
    assert is_oneway({"highway": "motorway"})
    assert not is_oneway({"highway": "motorway", "oneway": "no"})


def test_contraflow_tags() -> None:
    assert has_bike_contraflow({"oneway": "yes", "oneway:bicycle": "no"})
    assert has_bike_contraflow({"oneway": "yes", "cycleway:left": "opposite_lane"})
    assert not has_bike_contraflow({"oneway": "yes", "cycleway": "lane"})


@pytest.mark.parametrize(
    ("tags", "allowed"),
    [
        ({}, {"bike", "scooter", "car"}),
        ({"access": "private"}, set()),
        ({"access": "no", "bicycle": "yes"}, {"bike"}),
        ({"motor_vehicle": "no"}, {"bike"}),
        ({"motor_vehicle": "no", "moped": "yes"}, {"bike", "scooter"}),
        ({"motorcar": "no"}, {"bike", "scooter"}),
        ({"vehicle": "no"}, set()),
        ({"access": "destination"}, {"bike", "scooter", "car"}),  # couriers have a destination
        ({"bicycle": "no"}, {"scooter", "car"}),
        ({"access": "unknown_value"}, {"bike", "scooter", "car"}),
    ],
)
def test_access_tags(tags: dict[str, str], allowed: set[str]) -> None:
    mask = access_mask(tags)
    assert {p for p in ("bike", "scooter", "car") if mask & profile_bit(p)} == allowed


def test_osmnx_settings_are_restored() -> None:
    import osmnx as ox

    before = (ox.settings.all_oneway, list(ox.settings.useful_tags_way))
    read_osm(DATA / "small_town.osm.xml")
    assert (ox.settings.all_oneway, list(ox.settings.useful_tags_way)) == before


def test_missing_file_is_an_error() -> None:
    with pytest.raises(FileNotFoundError):
        read_osm(DATA / "no_such_town.osm")


@pytest.mark.shared_data
def test_real_extract_from_shared_data() -> None:
    """Optional: the smallest real extract in ../shared/osm, if present (read there, never copied)."""
    extract = SHARED_OSM / "aguascalientes.osm.bz2"
    if not extract.is_file():
        pytest.skip(f"{extract} is absent")
    started = time.perf_counter()
    graph = StreetGraph.from_osm(extract)
    net = graph.network
    # The extract's drivable streets: ~780 nodes once simplified (NOTICE); unsimplified, more.
    assert 500 < graph.node_count("car") <= net.node_count
    assert graph.node_count("bike") >= graph.node_count("car")  # footways, pedestrian streets
    rng = np.random.default_rng(0)
    points = [
        Point(float(a), float(b))
        for a, b in zip(rng.uniform(21.8626, 21.8752, 50), rng.uniform(-102.2799, -102.2635, 50), strict=True)
    ]
    car = graph.matrices(points, "car")
    off_diagonal = ~np.eye(50, dtype=np.bool_)
    assert (car.durations[off_diagonal] > 0).all()  # every pair distinct and reachable
    assert (car.durations < 3600).all()  # downtown, 1.5 km across: under an hour even with detours
    assert graph.path(points[0], points[1], "car")[1:-1]  # a real street geometry
    assert time.perf_counter() - started < 20
