"""The street network as plain arrays: nodes with coordinates, and street segments between them.

Both sources of streets produce this: the OpenStreetMap importer (routing.osm_import) and the
synthetic city generator (routing.synthetic_city). `StreetGraph` turns it into one routable graph
per vehicle profile. A segment is stored once, u→v; whether v→u is allowed depends on the
profile (see routing.profiles.directed_edges).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from routing.profiles import HIGHWAY_CLASSES
from routing.travel import METRES_PER_DEGREE, haversine_m

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_FIELDS = ("lat", "lon", "u", "v", "highway", "oneway", "bike_contraflow", "access")


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    lat: FloatArray  # per node, degrees
    lon: FloatArray
    u: IntArray  # per segment: node indices
    v: IntArray
    highway: IntArray  # index into routing.profiles.HIGHWAY_CLASSES
    oneway: BoolArray  # True: only u→v for traffic that respects one-way streets
    bike_contraflow: BoolArray  # True: bikes may ride v→u although the segment is one-way
    access: npt.NDArray[np.uint8]  # bit i set: PROFILES[i] is allowed by the access tags

    def __post_init__(self) -> None:
        n, m = len(self.lat), len(self.u)
        if len(self.lon) != n or any(len(getattr(self, f)) != m for f in _FIELDS[3:]):
            raise ValueError("street network arrays have inconsistent lengths")
        if m and (min(self.u.min(), self.v.min()) < 0 or max(self.u.max(), self.v.max()) >= n):
            raise ValueError("segment refers to a node that does not exist")
        if m and (self.highway.min() < 0 or self.highway.max() >= len(HIGHWAY_CLASSES)):
            raise ValueError("unknown highway class code")
        if n and not (np.isfinite(self.lat).all() and np.isfinite(self.lon).all()):
            raise ValueError("non-finite node coordinate")

    @property
    def node_count(self) -> int:
        return len(self.lat)

    @property
    def segment_count(self) -> int:
        return len(self.u)

    def fingerprint(self) -> str:
        """A content hash: equal networks share cache entries whatever produced them."""
        digest = hashlib.sha256()
        for name in _FIELDS:
            array = np.ascontiguousarray(getattr(self, name))
            digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
            digest.update(array.tobytes())
        return digest.hexdigest()

    def to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]]) -> StreetNetwork:
        return cls(
            lat=np.asarray(arrays["lat"], dtype=np.float64),
            lon=np.asarray(arrays["lon"], dtype=np.float64),
            u=np.asarray(arrays["u"], dtype=np.int64),
            v=np.asarray(arrays["v"], dtype=np.int64),
            highway=np.asarray(arrays["highway"], dtype=np.int64),
            oneway=np.asarray(arrays["oneway"], dtype=np.bool_),
            bike_contraflow=np.asarray(arrays["bike_contraflow"], dtype=np.bool_),
            access=np.asarray(arrays["access"], dtype=np.uint8),
        )

    def segment_lengths_m(self) -> FloatArray:
        return haversine_m(self.lat[self.u], self.lon[self.u], self.lat[self.v], self.lon[self.v])


def _chains(network: StreetNetwork, segments: IntArray) -> list[tuple[list[int], int]]:
    """Group segments into polylines (node indices, one member segment) through degree-2 nodes.

    A chain continues through a node only when exactly two of the drawn segments meet there, both
    have the same highway class and one-way flag (so a feature has one style) and, for one-way
    streets, both point the same way (so the line's direction is the direction of travel).
    """
    u, v = network.u[segments].tolist(), network.v[segments].tolist()
    style = list(zip(network.highway[segments].tolist(), network.oneway[segments].tolist(), strict=True))
    at: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(zip(u, v, strict=True)):
        at.setdefault(a, []).append(i)
        at.setdefault(b, []).append(i)

    def continuation(node: int, came_from: int, downstream: bool) -> int | None:
        here = at[node]
        if len(here) != 2:
            return None
        other = here[0] if here[1] == came_from else here[1]
        if other == came_from or style[other] != style[came_from]:
            return None
        if style[other][1] and (u[other] if downstream else v[other]) != node:
            return None
        return other

    used = [False] * len(u)
    chains: list[tuple[list[int], int]] = []
    for start in range(len(u)):
        if used[start]:
            continue
        used[start] = True
        nodes = [u[start], v[start]]
        # Extend past v (downstream), then reverse and extend past u; reversing once more at the
        # end orients the chain like its first segment.
        for downstream in (True, False):
            seg = start
            while (nxt := continuation(nodes[-1], seg, downstream)) is not None and not used[nxt]:
                used[nxt] = True
                seg = nxt
                nodes.append(v[nxt] if u[nxt] == nodes[-1] else u[nxt])
            nodes.reverse()
        chains.append((nodes, int(segments[start])))
    return chains


def network_geojson(network: StreetNetwork, segments: IntArray, simplify_tolerance_m: float) -> dict[str, Any]:
    """The given segments as a GeoJSON FeatureCollection of LineStrings ([lon, lat] coordinates).

    Segments are merged into polylines through degree-2 nodes and simplified (Douglas–Peucker in a
    local metric projection) with `simplify_tolerance_m`; 0 keeps every node. Each feature has
    `highway` and `oneway` properties for styling.
    """
    if not simplify_tolerance_m >= 0:
        raise ValueError("simplify_tolerance_m must be >= 0")
    chains = _chains(network, segments)
    if not chains:
        return {"type": "FeatureCollection", "features": []}
    scale_y = METRES_PER_DEGREE
    scale_x = scale_y * float(np.cos(np.radians(network.lat.mean())))
    flat = np.concatenate([np.asarray(nodes, dtype=np.int64) for nodes, _ in chains])
    which = np.repeat(np.arange(len(chains)), [len(nodes) for nodes, _ in chains])
    xy = np.column_stack([network.lon[flat] * scale_x, network.lat[flat] * scale_y])
    lines = shapely.simplify(shapely.linestrings(xy, indices=which), simplify_tolerance_m)
    coords, index = shapely.get_coordinates(lines, return_index=True)
    lonlat = np.round(np.column_stack([coords[:, 0] / scale_x, coords[:, 1] / scale_y]), 6)
    bounds = np.searchsorted(index, np.arange(len(chains) + 1))
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": lonlat[bounds[k] : bounds[k + 1]].tolist()},
                "properties": {
                    "highway": HIGHWAY_CLASSES[int(network.highway[segment])],
                    "oneway": bool(network.oneway[segment]),
                },
            }
            for k, (_, segment) in enumerate(chains)
        ],
    }


def largest_strong_component(n: int, src: IntArray, dst: IntArray) -> BoolArray:
    """Which of `n` nodes belong to the largest strongly connected component of the edges src→dst.

    Nodes touched by no edge form components of one and lose to any real street; an edgeless
    graph keeps nothing.
    """
    keep = np.zeros(n, dtype=np.bool_)
    if not len(src):
        return keep
    graph = sp.csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels)
    keep[labels == int(np.argmax(sizes))] = True
    return keep
