"""The contraction hierarchy answers exactly what plain Dijkstra answers, on any graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from routing._contraction import build_hierarchy
from routing._hierarchy import Hierarchy
from routing.street_graph import StreetGraph
from routing.synthetic_city import synthetic_city
from routing.types import Point


def _dijkstra(n: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray) -> np.ndarray:
    # Parallel edges: keep the lightest (a sparse matrix would add them up).
    best: dict[tuple[int, int], int] = {}
    for a, b, c in zip(src.tolist(), dst.tolist(), w.tolist(), strict=True):
        if a != b:
            best[a, b] = min(c, best.get((a, b), c))
    if not best:
        return np.where(np.eye(n, dtype=bool), 0.0, np.inf)
    rows, cols = zip(*best, strict=True)
    graph = sp.csr_matrix((np.array(list(best.values()), dtype=float), (rows, cols)), shape=(n, n))
    return np.asarray(dijkstra(graph), dtype=np.float64)


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 30))
    m = draw(st.integers(0, 4 * n))
    ends = st.lists(st.integers(0, n - 1), min_size=m, max_size=m)
    src, dst = draw(ends), draw(ends)
    heavy = draw(st.booleans())  # small weights give many equal-length alternatives (ties)
    weights = draw(st.lists(st.integers(1, 10**9 if heavy else 3), min_size=m, max_size=m))
    return n, *(np.array(x, dtype=np.int64) for x in (src, dst, weights))  # type: ignore[return-value]


@settings(max_examples=150, deadline=None)
@given(graphs(), st.data())
def test_hierarchy_equals_dijkstra_on_random_graphs(
    graph: tuple[int, np.ndarray, np.ndarray, np.ndarray], data: st.DataObject
) -> None:
    n, src, dst, w = graph
    hierarchy = build_hierarchy(n, src, dst, w)
    expected = _dijkstra(n, src, dst, w)
    everyone = np.arange(n, dtype=np.int64)
    assert np.array_equal(hierarchy.many_to_many(everyone, everyone), expected)
    # Any sources and targets, repeated or not: the downward sweep only visits what reaches them.
    some = st.lists(st.integers(0, n - 1), min_size=1, max_size=n)
    sources, targets = (np.array(data.draw(some), dtype=np.int64) for _ in range(2))
    assert np.array_equal(hierarchy.many_to_many(sources, targets), expected[np.ix_(sources, targets)])


@settings(max_examples=150, deadline=None)
@given(graphs(), st.data())
def test_searching_from_the_targets_gives_what_searching_from_the_sources_gives(
    graph: tuple[int, np.ndarray, np.ndarray, np.ndarray], data: st.DataObject
) -> None:
    """many_to_many searches from the smaller side and sweeps by buckets or by levels; each
    combination alone must equal Dijkstra."""
    n, src, dst, w = graph
    hierarchy = build_hierarchy(n, src, dst, w)
    expected = _dijkstra(n, src, dst, w)
    some = st.lists(st.integers(0, n - 1), min_size=1, max_size=n)
    sources, targets = (np.array(data.draw(some), dtype=np.int64) for _ in range(2))
    for by_level in (False, True):  # bucket by bucket, or a level at a time
        forward = hierarchy._query(hierarchy._forward(), sources, targets, by_level=by_level)
        backward = hierarchy._query(hierarchy._mirror(), targets, sources, by_level=by_level).T
        assert np.array_equal(forward, expected[np.ix_(sources, targets)])
        assert np.array_equal(backward, expected[np.ix_(sources, targets)])


def test_a_few_columns_on_a_city_are_searched_from_the_targets() -> None:
    network = synthetic_city(4, 3.0)
    routable = StreetGraph(network, engine="hierarchy").prepare("bike")
    assert routable.hierarchy is not None
    rng = np.random.default_rng(4)
    rows = rng.choice(routable.node_count, 150, replace=False).astype(np.int64)
    cols = rng.choice(routable.node_count, 7, replace=False).astype(np.int64)
    plain = routable.weights(rows, cols, use_hierarchy=False)
    assert np.array_equal(routable.hierarchy.many_to_many(rows, cols), plain)  # mirrored: 7 searches
    forward = routable.hierarchy._forward()
    for by_level in (False, True):
        assert np.array_equal(routable.hierarchy._query(forward, rows, cols, by_level=by_level), plain)
    assert np.array_equal(
        routable.hierarchy.many_to_many(cols, rows), routable.weights(cols, rows, use_hierarchy=False)
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("profile", ["bike", "scooter", "car"])
def test_street_graph_matrices_identical_with_and_without_hierarchy(seed: int, profile: str) -> None:
    network = synthetic_city(seed, 2.0 + seed / 2)
    rng = np.random.default_rng(seed)
    points = [
        Point(float(a), float(b))
        for a, b in zip(
            rng.uniform(network.lat.min(), network.lat.max(), 120),
            rng.uniform(network.lon.min(), network.lon.max(), 120),
            strict=True,
        )
    ]
    graph = StreetGraph(network, engine="hierarchy")
    fast = graph.matrices(points, profile)  # type: ignore[arg-type]
    plain = graph.matrices(points, profile, use_hierarchy=False)  # type: ignore[arg-type]
    assert graph.prepare(profile).hierarchy is not None  # type: ignore[arg-type]
    assert np.array_equal(fast.durations, plain.durations)
    assert np.array_equal(fast.distances, plain.distances)


def test_hierarchy_on_a_city_large_enough_for_auto_mode(tmp_path: Path) -> None:
    network = synthetic_city(7, 7.5)  # ~5,700 nodes: with a cache, the engine "auto" builds a hierarchy
    assert StreetGraph(network).prepare("car").hierarchy is None  # a one-off use is cheaper without
    routable = StreetGraph(network, cache_dir=tmp_path).prepare("car")
    assert routable.hierarchy is not None
    rng = np.random.default_rng(7)
    nodes = np.unique(rng.choice(routable.node_count, 300, replace=False)).astype(np.int64)
    assert np.array_equal(routable.weights(nodes, nodes), routable.weights(nodes, nodes, use_hierarchy=False))


def test_hierarchy_survives_its_array_form() -> None:
    src = np.array([0, 1, 2, 3, 0], dtype=np.int64)
    dst = np.array([1, 2, 3, 0, 2], dtype=np.int64)
    w = np.array([1, 2, 3, 4, 9], dtype=np.int64)
    hierarchy = build_hierarchy(4, src, dst, w)
    again = Hierarchy.from_arrays(hierarchy.to_arrays())
    everyone = np.arange(4, dtype=np.int64)
    assert np.array_equal(again.many_to_many(everyone, everyone), _dijkstra(4, src, dst, w))
    assert again.many_to_many(everyone[:0], everyone).shape == (0, 4)


@pytest.mark.parametrize("bad", [0, -3, 2**52])
def test_weights_must_be_positive_exact_integers(bad: int) -> None:
    with pytest.raises(ValueError):
        build_hierarchy(2, np.array([0]), np.array([1]), np.array([bad], dtype=np.int64))
