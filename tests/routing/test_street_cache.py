"""The on-disk cache of StreetGraph: per graph content and profile, read back bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import routing.street_graph as street_graph
from routing.street_graph import StreetGraph
from routing.street_network import StreetNetwork
from routing.synthetic_city import synthetic_city
from routing.types import Point

DATA = Path(__file__).parent / "data"


def _points(network: StreetNetwork, count: int, seed: int) -> list[Point]:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(network.lat.min(), network.lat.max(), count)
    lon = rng.uniform(network.lon.min(), network.lon.max(), count)
    return [Point(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]


@pytest.mark.parametrize("engine", ["dijkstra", "hierarchy"])
def test_second_load_reads_the_cache_and_gives_identical_matrices(tmp_path: Path, engine: str) -> None:
    network = synthetic_city(3, 1.5)
    points = _points(network, 40, 0)
    first = StreetGraph(network, cache_dir=tmp_path, engine=engine)  # type: ignore[arg-type]
    before = first.matrices(points, "car")
    assert first.preparations["car"].source == "built"
    assert len(list(tmp_path.glob("graph-car-*.npz"))) == 1

    second = StreetGraph(network, cache_dir=tmp_path, engine=engine)  # type: ignore[arg-type]
    after = second.matrices(points, "car")
    assert second.preparations["car"].source == "cache"
    assert second.preparations["car"].hierarchy is (engine == "hierarchy")
    assert np.array_equal(before.durations, after.durations)
    assert np.array_equal(before.distances, after.distances)
    assert second.path(points[0], points[1], "car") == first.path(points[0], points[1], "car")


def test_each_profile_has_its_own_entry(tmp_path: Path) -> None:
    graph = StreetGraph(synthetic_city(3, 1.0), cache_dir=tmp_path)
    for profile in ("bike", "scooter", "car"):
        graph.prepare(profile)
    assert sorted(f.name.split("-")[1] for f in tmp_path.glob("graph-*.npz")) == ["bike", "car", "scooter"]


def test_a_changed_graph_gets_a_new_key(tmp_path: Path) -> None:
    network = synthetic_city(3, 1.0)
    arrays = network.to_arrays()
    arrays["oneway"] = arrays["oneway"].copy()
    arrays["oneway"][0] = not arrays["oneway"][0]
    changed = StreetNetwork.from_arrays(arrays)
    a, b = StreetGraph(network, cache_dir=tmp_path), StreetGraph(changed, cache_dir=tmp_path)
    assert a.cache_key("car", False) != b.cache_key("car", False)
    assert a.cache_key("car", False) != a.cache_key("bike", False)
    assert a.cache_key("car", False) != a.cache_key("car", True)
    a.prepare("car")
    b.prepare("car")
    assert b.preparations["car"].source == "built"  # not fooled by the other city's entry
    assert len(list(tmp_path.glob("graph-car-*.npz"))) == 2
    same = StreetGraph(synthetic_city(3, 1.0), cache_dir=tmp_path)  # equal content, new object
    same.prepare("car")
    assert same.preparations["car"].source == "cache"


def test_a_damaged_cache_file_is_rebuilt(tmp_path: Path) -> None:
    network = synthetic_city(4, 1.0)
    StreetGraph(network, cache_dir=tmp_path).prepare("bike")
    (entry,) = tmp_path.glob("graph-bike-*.npz")
    entry.write_bytes(b"not a zip file")
    again = StreetGraph(network, cache_dir=tmp_path)
    again.prepare("bike")
    assert again.preparations["bike"].source == "built"
    assert entry.stat().st_size > 100  # rewritten
    assert not list(tmp_path.glob("*.tmp"))  # no leftovers from the atomic write


def test_a_cache_entry_of_another_shape_is_rebuilt(tmp_path: Path) -> None:
    network = synthetic_city(4, 1.0)
    graph = StreetGraph(network, cache_dir=tmp_path)
    graph.prepare("car")
    (entry,) = tmp_path.glob("graph-car-*.npz")
    np.savez(entry, nodes=np.array([network.node_count + 5]))  # readable, but not a graph of this city
    again = StreetGraph(network, cache_dir=tmp_path)
    again.prepare("car")
    assert again.preparations["car"].source == "built"
    assert again.node_count("car") == graph.node_count("car")


def test_osm_file_is_parsed_once_per_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = DATA / "small_town.osm.xml"
    first = StreetGraph.from_osm(source, cache_dir=tmp_path)
    expected = first.matrices([Point(0, 0), Point(0, 0.0018)], "car")

    def no_parsing(path: Path) -> StreetNetwork:
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(street_graph, "read_osm", no_parsing)
    second = StreetGraph.from_osm(source, cache_dir=tmp_path)
    assert second.network.fingerprint() == first.network.fingerprint()
    assert second.preparations == {}
    got = second.matrices([Point(0, 0), Point(0, 0.0018)], "car")
    assert got.durations.tolist() == expected.durations.tolist()
    assert second.preparations["car"].source == "cache"
