"""StreetNetwork: validated arrays, a content fingerprint, and GeoJSON for drawing the streets."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from routing.profiles import HIGHWAY_CLASSES
from routing.street_network import StreetNetwork, largest_strong_component, network_geojson
from routing.synthetic_city import synthetic_city

Pair = tuple[tuple[float, float], tuple[float, float]]


def _arrays(**changes: Any) -> dict[str, Any]:
    base = {
        "lat": np.array([0.0, 0.0, 0.001]),
        "lon": np.array([0.0, 0.001, 0.001]),
        "u": np.array([0, 1]),
        "v": np.array([1, 2]),
        "highway": np.array([HIGHWAY_CLASSES.index("residential")] * 2),
        "oneway": np.array([False, True]),
        "bike_contraflow": np.array([False, False]),
        "access": np.array([7, 7], dtype=np.uint8),
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    "changes",
    [
        {"lon": np.array([0.0, 0.001])},  # one coordinate short
        {"oneway": np.array([False])},  # a segment array short
        {"v": np.array([1, 3])},  # no node 3
        {"u": np.array([-1, 1])},
        {"highway": np.array([0, len(HIGHWAY_CLASSES)])},
        {"lat": np.array([0.0, np.nan, 0.001])},
    ],
)
def test_inconsistent_networks_are_rejected(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        StreetNetwork.from_arrays(_arrays(**changes))


def test_fingerprint_follows_content() -> None:
    a = StreetNetwork.from_arrays(_arrays())
    assert a.fingerprint() == StreetNetwork.from_arrays(a.to_arrays()).fingerprint()
    assert a.fingerprint() != StreetNetwork.from_arrays(_arrays(oneway=np.array([True, True]))).fingerprint()
    assert a.node_count == 3
    assert a.segment_count == 2


def test_largest_strong_component() -> None:
    # 0 <-> 1 <-> 2 is a cycle; 3 is only entered, 4 and 5 form a smaller cycle.
    src = np.array([0, 1, 1, 2, 2, 4, 5])
    dst = np.array([1, 0, 2, 1, 3, 5, 4])
    assert largest_strong_component(6, src, dst).tolist() == [True, True, True, False, False, False]
    assert not largest_strong_component(3, src[:0], dst[:0]).any()


def test_geojson_draws_every_segment_once_in_its_direction() -> None:
    network = synthetic_city(8, 1.0)
    collection = network_geojson(network, np.arange(network.segment_count), simplify_tolerance_m=0)
    features = collection["features"]
    assert collection["type"] == "FeatureCollection"
    assert len(features) < network.segment_count  # chains merged through degree-2 nodes

    def key(a: tuple[float, float], b: tuple[float, float], oneway: bool) -> Pair:
        return (a, b) if oneway else (min(a, b), max(a, b))

    drawn: set[Pair] = set()
    for feature in features:
        coords = [(c[0], c[1]) for c in feature["geometry"]["coordinates"]]
        assert feature["properties"]["highway"] in HIGHWAY_CLASSES
        drawn.update(key(a, b, feature["properties"]["oneway"]) for a, b in itertools.pairwise(coords))
    lonlat = np.round(np.column_stack([network.lon, network.lat]), 6).tolist()
    for u, v, oneway in zip(network.u.tolist(), network.v.tolist(), network.oneway.tolist(), strict=True):
        assert key(tuple(lonlat[u]), tuple(lonlat[v]), oneway) in drawn


def test_geojson_simplification_drops_points_but_keeps_features() -> None:
    network = synthetic_city(8, 1.0)
    every = np.arange(network.segment_count)
    exact = network_geojson(network, every, simplify_tolerance_m=0)
    coarse = network_geojson(network, every, simplify_tolerance_m=50)
    count = sum(len(f["geometry"]["coordinates"]) for f in exact["features"])
    assert len(coarse["features"]) == len(exact["features"])
    assert sum(len(f["geometry"]["coordinates"]) for f in coarse["features"]) < count
    assert network_geojson(network, every[:0], 0)["features"] == []
    with pytest.raises(ValueError):
        network_geojson(network, every, simplify_tolerance_m=-1)
