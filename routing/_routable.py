"""One profile's routable graph: the largest strongly connected part of the streets it may use.

Edge weights pack the duration and the distance of an edge into one exact integer,
`milliseconds * 2**25 + decimetres`, so that one shortest-path search finds the fastest route,
breaks ties by the shorter one, and still tells both totals apart: duration = weight >> 25,
distance = weight & (2**25 - 1). Float64 (scipy's type) adds such integers exactly below 2**53,
which bounds a route at 2**28 ms (74 h) and 2**25 dm (3,355 km) — far beyond any city trip.
Because the optimum is unique as a number, the contraction hierarchy and plain Dijkstra must give
bit-identical results, which the tests check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from routing._contraction import build_hierarchy
from routing._hierarchy import Hierarchy
from routing.profiles import VehicleProfile, directed_edges
from routing.street_network import StreetNetwork, largest_strong_component
from routing.travel import METRES_PER_DEGREE, haversine_m

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

DISTANCE_BITS: Final = 25
DISTANCE_MASK: Final = (1 << DISTANCE_BITS) - 1
EXACT_LIMIT: Final = 2.0**53  # float64 holds every integer below this
_QUERY_CELLS: Final = 8_000_000  # float64 cells of one chunk of Dijkstra rows (64 MB)

Engine = Literal["auto", "hierarchy", "dijkstra"]


def projected(lat: FloatArray, lon: FloatArray, lat0: float) -> FloatArray:
    """Metric x/y (equirectangular around latitude `lat0`), good to ~0.1% across a city."""
    return np.column_stack([lon * METRES_PER_DEGREE * math.cos(math.radians(lat0)), lat * METRES_PER_DEGREE])


def _spatial_order(xy: FloatArray) -> IntArray:
    """A Z-order (Morton) permutation: nearby nodes get nearby ids, which keeps the hierarchy's
    construction local (its witness searches run on balls of consecutive ids)."""
    if not len(xy):
        return np.zeros(0, dtype=np.int64)
    span = np.maximum(xy.max(axis=0) - xy.min(axis=0), 1e-9)
    cells = ((xy - xy.min(axis=0)) / span * 65535).astype(np.uint64)
    code = np.zeros(len(xy), dtype=np.uint64)
    for bit in range(16):
        for axis in range(2):
            code |= ((cells[:, axis] >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + axis)
    return np.argsort(code, kind="stable").astype(np.int64)


@dataclass(frozen=True, eq=False)
class RoutableGraph:
    """Local node i is network node `nodes[i]`; edges as CSR over local ids with packed weights."""

    nodes: IntArray
    indptr: IntArray
    indices: IntArray
    weight: IntArray
    hierarchy: Hierarchy | None = None
    _csr: sp.csr_matrix = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.nodes)
        csr = sp.csr_matrix((self.weight.astype(np.float64), self.indices, self.indptr), shape=(n, n))
        object.__setattr__(self, "_csr", csr)

    @property
    def node_count(self) -> int:
        return len(self.nodes)

    @property
    def csr(self) -> sp.csr_matrix:
        return self._csr

    def weights(self, sources: IntArray, targets: IntArray, *, use_hierarchy: bool = True) -> FloatArray:
        """Packed shortest-path weights between local nodes (inf: no route), sources × targets."""
        if use_hierarchy and self.hierarchy is not None:
            return self.hierarchy.many_to_many(sources, targets)
        out = np.full((len(sources), len(targets)), np.inf)
        chunk = max(1, _QUERY_CELLS // max(self.node_count, 1))
        for a in range(0, len(sources), chunk):
            out[a : a + chunk] = dijkstra(self._csr, indices=sources[a : a + chunk])[:, targets]
        return out

    def route(self, source: int, target: int, *, reach: float = math.inf) -> list[int]:
        """The local nodes of the shortest route source → target, both included ([] if none).

        `reach` (a packed weight) bounds the first search: Dijkstra then settles the streets
        within it, not the whole city (measured 6.7x faster on courier-length legs), and the
        bound doubles until the target is inside. The route is the same whatever `reach`: the
        optimum is unique as a number (see the module doc)."""
        limit = reach
        while True:
            dist, pred = dijkstra(self._csr, indices=source, return_predecessors=True, limit=limit)
            if np.isfinite(dist[target]) or math.isinf(limit):
                break
            limit = limit * 2 if limit * 2 < EXACT_LIMIT else math.inf
        if source != target and pred[target] < 0:
            return []
        nodes = [target]
        while nodes[-1] != source:
            nodes.append(int(pred[nodes[-1]]))
        return nodes[::-1]

    def to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        arrays: dict[str, npt.NDArray[Any]] = {
            "nodes": self.nodes,
            "indptr": self.indptr,
            "indices": self.indices,
            "weight": self.weight,
        }
        if self.hierarchy is not None:
            arrays |= {f"h_{k}": v for k, v in self.hierarchy.to_arrays().items()}
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]]) -> RoutableGraph:
        parts = {k[2:]: v for k, v in arrays.items() if k.startswith("h_")}
        return cls(
            nodes=np.asarray(arrays["nodes"], dtype=np.int64),
            indptr=np.asarray(arrays["indptr"], dtype=np.int64),
            indices=np.asarray(arrays["indices"], dtype=np.int64),
            weight=np.asarray(arrays["weight"], dtype=np.int64),
            hierarchy=Hierarchy.from_arrays(parts) if parts else None,
        )


def packed_edges(network: StreetNetwork, profile: VehicleProfile) -> tuple[IntArray, IntArray, IntArray]:
    """The profile's directed edges over network node ids, with packed integer weights."""
    src, dst, speed = directed_edges(
        profile,
        u=network.u,
        v=network.v,
        highway=network.highway,
        oneway=network.oneway,
        bike_contraflow=network.bike_contraflow,
        access=network.access,
    )
    metres = haversine_m(network.lat[src], network.lon[src], network.lat[dst], network.lon[dst])
    millis = np.maximum(np.rint(metres / speed * 1000), 1).astype(np.int64)  # ≥ 1: positive weights
    decimetres = np.rint(metres * 10).astype(np.int64)
    if len(decimetres) and decimetres.max() > DISTANCE_MASK:
        raise ValueError("a street segment longer than 3,355 km")
    return src, dst, (millis << DISTANCE_BITS) + decimetres


def build_routable(network: StreetNetwork, profile: VehicleProfile, *, with_hierarchy: bool) -> RoutableGraph:
    """The profile's largest strongly connected component, spatially numbered, parallel edges
    reduced to the lightest, and (optionally) its contraction hierarchy."""
    src, dst, weight = packed_edges(network, profile)
    keep = largest_strong_component(network.node_count, src, dst)
    members = np.flatnonzero(keep)
    lat0 = float(network.lat.mean()) if network.node_count else 0.0
    nodes = members[_spatial_order(projected(network.lat[members], network.lon[members], lat0))]
    local = np.full(network.node_count, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    inside = keep[src] & keep[dst]
    src, dst, weight = local[src[inside]], local[dst[inside]], weight[inside]
    order = np.lexsort((weight, dst, src))  # per (src, dst) the lightest first
    src, dst, weight = src[order], dst[order], weight[order]
    first = np.ones(len(src), dtype=np.bool_)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    src, dst, weight = src[first], dst[first], weight[first]
    indptr = np.searchsorted(src, np.arange(len(nodes) + 1)).astype(np.int64)
    hierarchy = build_hierarchy(len(nodes), src, dst, weight) if with_hierarchy and len(nodes) else None
    return RoutableGraph(nodes=nodes, indptr=indptr, indices=dst, weight=weight, hierarchy=hierarchy)
