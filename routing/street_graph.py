"""Street travel times: `StreetGraph`, the `TravelTimes` implementation on a real street network.

Built from an OpenStreetMap XML file (`from_osm`) or any `StreetNetwork` (`from_network`, e.g. a
`routing.synthetic_city`). Per vehicle profile, it keeps the largest strongly connected part of the
streets the profile may use (routing._routable), snaps points to its nearest node with a KD-tree,
and answers many-to-many queries from the unique snapped nodes only: with a contraction hierarchy
(routing._contraction, routing._hierarchy; exactly equal to Dijkstra, tested) on large graphs that are cached, or
with scipy's Dijkstra (engine "auto"; "hierarchy" and "dijkstra" force one).

A point's trip starts with a straight "access" leg to its node at the profile's access speed, so
two points on the same node still differ, and ends with the same leg from the last node. Points
farther than `max_snap_m` from the profile's streets are unreachable (sentinels in the matrices).

With a `cache_dir`, each profile's graph (and the parsed OSM file) is stored there as `.npz`, keyed
by a hash of the content it was built from; nothing is ever fetched from the network.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from routing._routable import (
    DISTANCE_BITS,
    DISTANCE_MASK,
    EXACT_LIMIT,
    Engine,
    RoutableGraph,
    build_routable,
    projected,
)
from routing._weight_cache import DEFAULT_LIMIT, WeightCache
from routing.osm_import import read_osm
from routing.profiles import VEHICLE_PROFILES, check_profile
from routing.street_network import StreetNetwork
from routing.travel import UNREACHABLE_M, UNREACHABLE_S, coordinates, haversine_m
from routing.types import Matrices, Point, Profile

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

HIERARCHY_MIN_NODES: Final = 5_000  # below this, Dijkstra per source is cheap and building is not
PATH_REACH_MIN_S: Final = 60.0  # the smallest first bound of a path search (see `path`)
_CACHE_FORMAT: Final = 1  # bump when the cached arrays or their meaning change


@dataclass(frozen=True, slots=True)
class Preparation:
    """How a profile's graph came to be: built (and maybe written to the cache) or read from it."""

    source: Literal["built", "cache"]
    seconds: float  # building, or reading the cache
    write_seconds: float = 0.0
    nodes: int = 0
    hierarchy: bool = False


class StreetGraph:
    """Travel times along streets for the bike, scooter and car profiles (routing.profiles)."""

    def __init__(
        self,
        network: StreetNetwork,
        *,
        cache_dir: str | Path | None = None,
        engine: Engine = "auto",
        max_snap_m: float | None = 2_000.0,
        matrix_cache_nodes: int = DEFAULT_LIMIT,
    ) -> None:
        if engine not in ("auto", "hierarchy", "dijkstra"):
            raise ValueError(f"unknown engine {engine!r}")
        if max_snap_m is not None and not max_snap_m >= 0:
            raise ValueError("max_snap_m must be >= 0 or None")
        self.network = network
        self.engine: Engine = engine
        self.max_snap_m = max_snap_m
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.preparations: dict[Profile, Preparation] = {}
        self._graphs: dict[Profile, RoutableGraph] = {}
        self._trees: dict[Profile, cKDTree] = {}
        # Weights between snapped nodes, remembered across calls (routing._weight_cache): stores
        # and doors repeat from one dispatch cycle to the next. 0 turns it off.
        self.matrix_cache_nodes = matrix_cache_nodes
        self._weight_caches: dict[Profile, WeightCache] = {}
        self._cache_lock = threading.Lock()  # one query at a time updates a profile's table
        self._lat0 = float(network.lat.mean()) if network.node_count else 0.0
        self._fingerprint: str | None = None

    @classmethod
    def from_network(
        cls,
        network: StreetNetwork,
        *,
        cache_dir: str | Path | None = None,
        engine: Engine = "auto",
        max_snap_m: float | None = 2_000.0,
    ) -> StreetGraph:
        return cls(network, cache_dir=cache_dir, engine=engine, max_snap_m=max_snap_m)

    from_synthetic = from_network  # for callers that build a `routing.synthetic_city` first

    @classmethod
    def from_osm(
        cls,
        path: str | Path,
        *,
        cache_dir: str | Path | None = None,
        engine: Engine = "auto",
        max_snap_m: float | None = 2_000.0,
    ) -> StreetGraph:
        """Streets of an `.osm`, `.osm.bz2` or `.osm.gz` file; parsed once per file content when cached."""
        path = Path(path)
        network: StreetNetwork | None = None
        file = None
        if cache_dir is not None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:32]
            file = Path(cache_dir) / f"osm-{digest}-v{_CACHE_FORMAT}.npz"
            arrays = _read_npz(file)
            network = StreetNetwork.from_arrays(arrays) if arrays is not None else None
        if network is None:
            network = read_osm(path)
            if file is not None:
                _write_npz(file, network.to_arrays())
        return cls(network, cache_dir=cache_dir, engine=engine, max_snap_m=max_snap_m)

    # -- preparation -------------------------------------------------------------------------

    def prepare(self, profile: Profile) -> RoutableGraph:
        """The profile's routable graph: built on first use, or read from the cache."""
        profile = check_profile(profile)
        graph = self._graphs.get(profile)
        if graph is not None:
            return graph
        vehicle = VEHICLE_PROFILES[profile]
        # A hierarchy costs seconds to build (half a minute for a 50,000-node bike graph) and pays
        # off over many queries; "auto" builds one only where it is kept: in the cache.
        with_hierarchy = self.engine == "hierarchy" or (
            self.engine == "auto" and self.cache_dir is not None and self.network.node_count >= HIERARCHY_MIN_NODES
        )
        file = self._cache_file(profile, with_hierarchy)
        started = time.perf_counter()
        graph = self._load(file)
        if graph is not None:
            prep = Preparation("cache", time.perf_counter() - started, 0.0, graph.node_count, with_hierarchy)
        else:
            graph = build_routable(self.network, vehicle, with_hierarchy=with_hierarchy)
            built = time.perf_counter() - started
            written = time.perf_counter()
            if file:
                _write_npz(file, graph.to_arrays())
            prep = Preparation("built", built, time.perf_counter() - written, graph.node_count, with_hierarchy)
        self._graphs[profile] = graph
        self.preparations[profile] = prep
        nodes = graph.nodes
        self._trees[profile] = cKDTree(projected(self.network.lat[nodes], self.network.lon[nodes], self._lat0))
        return graph

    def _load(self, file: Path | None) -> RoutableGraph | None:
        """A cached graph, or None when there is none or it cannot be used (then it is rebuilt)."""
        arrays = _read_npz(file)
        if arrays is None:
            return None
        try:
            graph = RoutableGraph.from_arrays(arrays)
        except (KeyError, ValueError, IndexError):  # an older or damaged entry
            return None
        if graph.node_count and int(graph.nodes.max()) >= self.network.node_count:
            return None
        return graph

    def cache_key(self, profile: Profile, with_hierarchy: bool) -> str:
        """Content hash of everything a profile's cached graph depends on."""
        if self._fingerprint is None:
            self._fingerprint = self.network.fingerprint()
        recipe = f"{_CACHE_FORMAT}|{DISTANCE_BITS}|{VEHICLE_PROFILES[profile]!r}|{with_hierarchy}"
        return hashlib.sha256(f"{self._fingerprint}|{recipe}".encode()).hexdigest()[:32]

    def _cache_file(self, profile: Profile, with_hierarchy: bool) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"graph-{profile}-{self.cache_key(profile, with_hierarchy)}.npz"

    # -- queries -------------------------------------------------------------------------------

    def snap(self, points: Sequence[Point], profile: Profile) -> tuple[IntArray, FloatArray]:
        """Each point's nearest node of the profile's graph (local id, -1 if too far or none) and
        the straight distance to it in metres."""
        graph = self.prepare(profile)
        if not points:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        lat, lon = coordinates(points)
        if not graph.node_count:
            return np.full(len(points), -1, dtype=np.int64), np.full(len(points), np.inf)
        _, nearest = self._trees[check_profile(profile)].query(projected(lat, lon, self._lat0))
        node = np.asarray(nearest, dtype=np.int64)
        network_node = graph.nodes[node]
        metres = haversine_m(lat, lon, self.network.lat[network_node], self.network.lon[network_node])
        if self.max_snap_m is not None:
            node = np.where(metres <= self.max_snap_m, node, -1)
        return node, metres

    def matrices(self, points: Sequence[Point], profile: Profile, *, use_hierarchy: bool = True) -> Matrices:
        """Durations (s) and distances (m) between `points` along the fastest street routes."""
        profile = check_profile(profile)
        graph = self.prepare(profile)
        n = len(points)
        node, access_m = self.snap(points, profile)
        ok = node >= 0
        unique, inverse = np.unique(node[ok], return_inverse=True)
        packed = np.full((n, n), np.inf)
        packed[np.ix_(ok, ok)] = self._node_weights(profile, graph, unique, use_hierarchy)[np.ix_(inverse, inverse)]
        found = np.isfinite(packed)
        if found.any() and packed[found].max() >= EXACT_LIMIT:
            raise ValueError("a route is too long for exact integer weights (over 74 h or 3,355 km)")
        whole = np.where(found, packed, 0).astype(np.int64)
        access_m = np.where(ok, access_m, 0.0)
        access_s = access_m / VEHICLE_PROFILES[profile].access_speed_mps
        seconds = (whole >> DISTANCE_BITS) / 1000 + access_s[:, None] + access_s[None, :]
        metres = (whole & DISTANCE_MASK) / 10 + access_m[:, None] + access_m[None, :]
        durations = np.where(found, np.rint(seconds), UNREACHABLE_S).astype(np.int64)
        distances = np.where(found, np.rint(metres), UNREACHABLE_M).astype(np.int64)
        lat, lon = coordinates(points)
        same = np.equal.outer(lat, lat) & np.equal.outer(lon, lon)  # includes the diagonal
        durations[same] = 0
        distances[same] = 0
        return Matrices(durations=durations, distances=distances)

    def _node_weights(self, profile: Profile, graph: RoutableGraph, nodes: IntArray, use_hierarchy: bool) -> FloatArray:
        """Packed weights between unique local `nodes`: from the profile's cache, computing only
        the pairs it has not seen (`use_hierarchy=False` always computes: tests compare engines)."""

        def compute(sources: IntArray, targets: IntArray) -> FloatArray:
            return graph.weights(sources, targets, use_hierarchy=use_hierarchy)

        if not use_hierarchy or self.matrix_cache_nodes < 1:
            return compute(nodes, nodes)
        with self._cache_lock:
            cache = self._weight_caches.get(profile)
            if cache is None:
                cache = self._weight_caches[profile] = WeightCache(graph.node_count, self.matrix_cache_nodes)
            return cache.weights(nodes, compute)

    def path(self, a: Point, b: Point, profile: Profile) -> list[Point]:
        """The fastest route's geometry from `a` to `b` (via the street nodes); [] if there is none."""
        if a == b:
            return [a, b]
        graph = self.prepare(profile)
        node, _ = self.snap([a, b], profile)
        if (node < 0).any():
            return []
        route = graph.route(int(node[0]), int(node[1]), reach=self.path_reach(a, b, profile))
        if not route:
            return []
        ids = graph.nodes[np.asarray(route, dtype=np.int64)]
        lat, lon = self.network.lat[ids].tolist(), self.network.lon[ids].tolist()
        return [a, *(Point(y, x) for y, x in zip(lat, lon, strict=True)), b]

    def path_reach(self, a: Point, b: Point, profile: Profile) -> float:
        """The first bound (a packed weight) of `path`'s search from `a` to `b`: twice the straight
        line at the profile's top speed, which reached the target at once on 200 random trips
        across the simulated city (the search doubles it when it falls short)."""
        fastest = max(VEHICLE_PROFILES[check_profile(profile)].speeds_mps.values())
        lat, lon = np.array([a.lat, b.lat]), np.array([a.lon, b.lon])
        straight = float(haversine_m(lat[:1], lon[:1], lat[1:], lon[1:])[0])
        millis = round(max(PATH_REACH_MIN_S, 2 * straight / fastest) * 1000)
        return float(millis << DISTANCE_BITS)

    def node_count(self, profile: Profile) -> int:
        """Nodes in the profile's routable graph (its largest strongly connected component)."""
        return self.prepare(profile).node_count


def _read_npz(file: Path | None) -> dict[str, npt.NDArray[Any]] | None:
    """The arrays of a cache file, or None when it is absent or unreadable (then it is rebuilt)."""
    if file is None or not file.is_file():
        return None
    try:
        with np.load(file, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None


def _write_npz(file: Path, arrays: dict[str, npt.NDArray[Any]]) -> None:
    """Write atomically (temporary file + rename), so a reader never sees half a cache entry."""
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=file.stem, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
