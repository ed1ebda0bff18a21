"""StreetGraph remembers weights between snapped nodes across calls: the matrices stay bit for bit
those of a graph without the cache, while only unseen pairs are computed."""

from __future__ import annotations

import numpy as np
import pytest

from routing._weight_cache import WeightCache
from routing.street_graph import StreetGraph
from routing.street_network import StreetNetwork
from routing.synthetic_city import synthetic_city
from routing.types import Point, Profile


@pytest.fixture(scope="module")
def city() -> StreetNetwork:
    return synthetic_city(5, 2.0)


def _points(network: StreetNetwork, count: int, rng: np.random.Generator) -> list[Point]:
    lat = rng.uniform(network.lat.min(), network.lat.max(), count)
    lon = rng.uniform(network.lon.min(), network.lon.max(), count)
    return [Point(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]


@pytest.mark.parametrize("engine", ["hierarchy", "dijkstra"])
@pytest.mark.parametrize("limit", [1_024, 60])
def test_cycles_of_mostly_repeated_points_give_the_uncached_matrices(
    city: StreetNetwork, engine: str, limit: int
) -> None:
    """Like dispatch cycles: stores stay, doors come and go, couriers move; two zones alternate.
    A small table (60 slots) forces evictions, and a query over the limit bypasses the table."""
    rng = np.random.default_rng(1)
    cached = StreetGraph(city, engine=engine, matrix_cache_nodes=limit)  # type: ignore[arg-type]
    plain = StreetGraph(city, engine=engine, matrix_cache_nodes=0)  # type: ignore[arg-type]
    zones = [(_points(city, 5, rng), _points(city, 30, rng)) for _ in range(2)]
    for cycle in range(8):
        stores, doors = zones[cycle % 2]
        doors[:4] = _points(city, 4, rng)  # delivered, and new orders in
        couriers = _points(city, 12, rng)
        points = couriers + stores + doors + (doors[:3] if cycle == 5 else [])  # repeats, too
        if cycle == 6 and limit < 100:
            points += _points(city, 40, rng)  # more nodes than the table holds
        for profile in ("bike", "car"):
            got, want = cached.matrices(points, profile), plain.matrices(points, profile)
            assert np.array_equal(got.durations, want.durations)
            assert np.array_equal(got.distances, want.distances)


def test_only_pairs_with_a_new_node_are_computed() -> None:
    calls: list[tuple[int, int]] = []

    def compute(sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        calls.append((len(sources), len(targets)))
        out: np.ndarray = sources[:, None] * 1000.0 + targets[None, :]  # a stand-in that names the pair
        return out

    cache = WeightCache(node_count=100, limit=10)
    first = np.array([1, 2, 3, 4])
    assert cache.weights(first, compute).tolist() == compute(first, first).tolist()
    calls.clear()
    again = np.array([1, 2, 3, 4, 5])  # one new node: its row, then its column
    assert cache.weights(again, compute).tolist() == compute(again, again).tolist()
    assert calls[:2] == [(1, 5), (4, 1)]
    subset = np.array([2, 4, 5])
    want = compute(subset, subset).tolist()
    calls.clear()
    assert cache.weights(subset, compute).tolist() == want
    assert calls == []  # all known
    assert cache.computed_pairs == 16 + 5 + 4


def test_a_node_back_after_a_while_costs_its_own_row_and_column_only() -> None:
    """A courier back on a street corner seen cycles ago, next to doors added since: only that
    corner's pairs are missing, so only its row and column are computed, not the doors' rows."""

    def compute(sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        out: np.ndarray = sources[:, None] * 1000.0 + targets[None, :]
        return out

    cache = WeightCache(node_count=100, limit=50)
    cache.weights(np.array([1, 2, 3, 9]), compute)  # corner 9 in the first cycle
    cache.weights(np.array([1, 2, 3, 10, 11, 12]), compute)  # doors 10-12 arrive, 9 gone
    cache.weights(np.array([1, 2, 3, 10, 11, 12]), compute)
    before = cache.computed_pairs
    back = np.array([1, 2, 3, 10, 11, 12, 9])
    assert cache.weights(back, compute).tolist() == compute(back, back).tolist()
    assert cache.computed_pairs - before == 7 + 6  # 9's row, then the column into 9


def test_least_recently_used_nodes_give_up_their_slots() -> None:
    def compute(sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        out: np.ndarray = sources[:, None] * 1000.0 + targets[None, :]
        return out

    cache = WeightCache(node_count=100, limit=6)
    cache.weights(np.array([1, 2, 3]), compute)
    cache.weights(np.array([4, 5, 6]), compute)
    cache.weights(np.array([1, 2, 3]), compute)  # 4, 5, 6 are now the oldest
    before = cache.computed_pairs
    out = cache.weights(np.array([1, 7, 8]), compute)  # two slots needed: 4 and 5 go
    assert out.tolist() == compute(np.array([1, 7, 8]), np.array([1, 7, 8])).tolist()
    assert cache.computed_pairs - before == 2 * 3 + 1 * 2
    before = cache.computed_pairs
    cache.weights(np.array([1, 2, 3]), compute)  # kept
    assert cache.computed_pairs == before
    cache.weights(np.array([4]), compute)  # evicted: computed again
    assert cache.computed_pairs == before + 1


def test_matrices_for_a_second_cycle_compute_only_the_moved_courier(city: StreetNetwork) -> None:
    rng = np.random.default_rng(2)
    graph = StreetGraph(city, engine="hierarchy")
    fixed, courier = _points(city, 20, rng), _points(city, 1, rng)
    profile: Profile = "bike"
    graph.matrices(courier + fixed, profile)
    cache = graph._weight_caches[profile]
    first = cache.computed_pairs
    moved = _points(city, 1, rng)
    graph.matrices(moved + fixed, profile)
    unique = len(np.unique(graph.snap(moved + fixed, profile)[0]))
    assert cache.computed_pairs - first <= 2 * unique - 1  # its row and its column, no more
