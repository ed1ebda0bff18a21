"""A contraction hierarchy for many-to-many shortest paths, in numpy and scipy only.

Why: plain `scipy.sparse.csgraph.dijkstra` settles the whole graph once per source (~8 ms on a
50,000-node city), so a 500×500 matrix costs ~4 s. A hierarchy answers it in well under a second:
each source climbs a small "upward" graph (scipy's Dijkstra on few nodes), then one downward sweep
over the nodes in reverse contraction order (PHAST) finishes all targets at once, vectorised over
the sources. The sweep only visits nodes that can reach a target (RPHAST).

Construction contracts *independent sets* of nodes per round (local minima of the priority among
their neighbours, plus more low-priority nodes that touch none of them), with all per-node work
vectorised over the graph; each round prices only the share of nodes with the fewest paths
through them, since pricing the dense late remainder in full dominated the build:
- shortcut u→x via v is needed unless some path u⇝x is *strictly* shorter than u→v→x in the
  current graph (such a path may even run through v — then another shortcut covers it, so
  distances are preserved); ties keep the shortcut, which is always safe;
- the priority uses a cheap ≤2-hop witness estimate; the shortcuts actually inserted are checked
  with exact, radius-limited Dijkstra searches, which keeps the hierarchy sparse;
- contraction stops at a small "core" (about 1% of the nodes); the core's edges are simply part
  of the upward graph, so a query's Dijkstra runs through the core as a whole.
Weights are positive integers below 2**53 so that sums are exact in float64 (scipy's type).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from itertools import pairwise
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_NO_PATH: Final = np.iinfo(np.int64).max // 4  # "no witness": above any real path weight
_CORE_FRACTION: Final = 0.01
_MAX_WITNESS_PAIRS: Final = 40_000_000  # 2-hop probes per round; beyond that the rest is core
_WITNESS_CHUNK: Final = 128  # exact witness searches run this many sources at a time
_QUERY_CELLS: Final = 8_000_000  # float64 cells of the source-chunk × node working array
_CANDIDATE_SHARE: Final = 0.4  # each round prices this share of the nodes, fewest paths through first
_ELIGIBLE_SHARE: Final = 0.3  # besides local minima, contract candidates among this lower-priority share
_EXTRA_PICKS: Final = 1
_LEVEL_SWEEP_PER_BUCKET: Final = 4  # see Hierarchy._query


def _dedupe(src: IntArray, dst: IntArray, w: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Edges sorted by (src, dst), self-loops dropped, parallel edges reduced to the lightest."""
    keep = src != dst
    src, dst, w = src[keep], dst[keep], w[keep]
    order = np.lexsort((w, dst, src))
    src, dst, w = src[order], dst[order], w[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    return src[first], dst[first], w[first]


def _ranges(counts: IntArray) -> IntArray:
    """Concatenated aranges: counts [2, 3] -> [0, 1, 0, 1, 2]."""
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)


def _exact_witness(n: int, src: IntArray, dst: IntArray, w: IntArray, cu: IntArray, cx: IntArray, via: IntArray) -> Any:
    """For each (u, x, via): is there a u⇝x path strictly lighter than `via` in the graph?

    Sources are searched in chunks of nearby ids (callers number nodes spatially); each chunk
    first finds the ball of nodes within the chunk's largest `via`, then runs its per-source
    searches on that ball only, so a search costs its ball, not the whole graph.
    """
    graph = sp.csr_matrix((w.astype(np.float64), (src, dst)), shape=(n, n))
    order = np.argsort(cu, kind="stable")
    sources, first = np.unique(cu[order], return_index=True)
    bounds = np.append(first, len(order))
    found = np.zeros(len(cu), dtype=bool)
    for a in range(0, len(sources), _WITNESS_CHUNK):
        chunk = sources[a : a + _WITNESS_CHUNK]
        rows = order[bounds[a] : bounds[min(a + _WITNESS_CHUNK, len(sources))]]
        limit = float(via[rows].max()) + 1.0
        ball = np.flatnonzero(np.isfinite(dijkstra(graph, indices=chunk, limit=limit, min_only=True)))
        local = np.full(n, -1, dtype=np.int64)
        local[ball] = np.arange(len(ball))
        dist = dijkstra(graph[ball][:, ball], indices=local[chunk], limit=limit)
        row = np.searchsorted(chunk, cu[rows])
        col = local[cx[rows]]
        best = np.where(col >= 0, dist[row, np.maximum(col, 0)], np.inf)
        found[rows] = best < via[rows]
    return found


Edges = tuple[IntArray, IntArray, IntArray]  # src, dst, weight
# heads, tails, weights (as a column), and for a level-at-a-time sweep where each head's edges start
_Bucket = tuple[IntArray, IntArray, FloatArray, IntArray]
_NO_SEGMENTS: Final = np.zeros(0, dtype=np.int64)


def _pairs(
    src: IntArray, dst: IntArray, w: IntArray, outstart: IntArray, through: BoolArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Every two-edge path u→v→x (u ≠ x) with v in `through`: (u, v, x, weight)."""
    incoming = np.flatnonzero(through[dst])
    fan = np.diff(outstart)[dst[incoming]]
    in_edge = np.repeat(incoming, fan)
    out_edge = outstart[dst[in_edge]] + _ranges(fan)
    keep = src[in_edge] != dst[out_edge]
    in_edge, out_edge = in_edge[keep], out_edge[keep]
    return src[in_edge], dst[in_edge], dst[out_edge], w[in_edge] + w[out_edge]


def _two_hop_needed(
    n: int, src: IntArray, dst: IntArray, w: IntArray, outstart: IntArray, cu: IntArray, cx: IntArray, via: IntArray
) -> BoolArray:
    """Cheap witness test: False where some u→y→x is strictly lighter than `via` (y = v gives
    exactly `via`, never "strictly"); True means the shortcut may be needed."""
    probes = np.diff(outstart)[cu]
    keys = src * n + dst  # sorted: edges are kept sorted by (src, dst)
    hop = np.repeat(np.arange(len(cu)), probes)
    uy = outstart[cu[hop]] + _ranges(probes)
    yx_key = dst[uy] * n + cx[hop]
    yx = np.minimum(np.searchsorted(keys, yx_key), len(keys) - 1)
    two_hop = np.where(keys[yx] == yx_key, w[uy] + w[yx], _NO_PATH)
    witness = np.full(len(cu), _NO_PATH, dtype=np.int64)
    has = probes > 0
    if has.any():
        witness[has] = np.minimum.reduceat(two_hop, (np.cumsum(probes) - probes)[has])
    return np.asarray(witness >= via)


def _local_minima(candidate: BoolArray, key: IntArray, src: IntArray, dst: IntArray) -> BoolArray:
    """Candidates whose key is below every candidate neighbour's (keys are unique)."""
    big = np.iinfo(np.int64).max
    neighbour_min = np.full(len(key), big, dtype=np.int64)
    np.minimum.at(neighbour_min, src, np.where(candidate[dst], key[dst], big))
    np.minimum.at(neighbour_min, dst, np.where(candidate[src], key[src], big))
    return candidate & (key < neighbour_min)


def _independent_set(candidate: BoolArray, key: IntArray, src: IntArray, dst: IntArray) -> BoolArray:
    """The nodes to contract together this round: no two adjacent, all of low priority.

    First every candidate that is a local minimum of the priority; then, so that late rounds on
    dense remainders do not contract only a sliver each, further local minima among the
    lower-priority candidates that no chosen node touches.
    """
    chosen = _local_minima(candidate, key, src, dst)
    eligible = candidate & (key <= np.quantile(key[candidate], _ELIGIBLE_SHARE))
    for _ in range(_EXTRA_PICKS):
        blocked = chosen.copy()
        blocked[dst[chosen[src]]] = True
        blocked[src[chosen[dst]]] = True
        extra = _local_minima(eligible & ~blocked, key, src, dst)
        if not extra.any():
            break
        chosen |= extra
    return chosen


def _contract(n: int, src: IntArray, dst: IntArray, w: IntArray) -> tuple[IntArray, list[Edges], list[Edges]]:
    """Contract rounds of independent nodes; returns each node's level, upward and downward edges.

    A contracted node's out-edges go up (to nodes contracted later), its in-edges come down; the
    core's remaining edges count as upward. Each round prices only the candidates, the share of
    nodes with the fewest paths through them: pricing every node of the dense late remainder
    (degree ~30, so ~30³ two-hop probes a node) would dominate the build.
    """
    tiebreak = np.random.default_rng(0).permutation(n).astype(np.int64)  # fixed: deterministic build
    level = np.zeros(n, dtype=np.int64)
    alive = np.ones(n, dtype=np.bool_)
    deleted_neighbours = np.zeros(n, dtype=np.int64)
    ups: list[Edges] = []
    downs: list[Edges] = []
    src, dst, w = _dedupe(src, dst, w)
    core_size = int(_CORE_FRACTION * n)
    rnd = 0
    while int(alive.sum()) > core_size:
        outstart = np.searchsorted(src, np.arange(n + 1)).astype(np.int64)
        outdeg, indeg = np.diff(outstart), np.bincount(dst, minlength=n)
        through = outdeg * indeg
        candidate = alive & (through <= np.quantile(through[alive], _CANDIDATE_SHARE))
        cu, cv, cx, via = _pairs(src, dst, w, outstart, candidate)
        if int(outdeg[cu].sum()) > _MAX_WITNESS_PAIRS:
            break
        needed = _two_hop_needed(n, src, dst, w, outstart, cu, cx, via)
        shortcuts = np.bincount(cv[needed], minlength=n)
        key = (2 * shortcuts - outdeg - indeg + deleted_neighbours) * n + tiebreak
        chosen = _independent_set(candidate, key, src, dst)

        level[chosen] = rnd
        leaving, entering = chosen[src], chosen[dst]
        ups.append((src[leaving], dst[leaving], w[leaving]))
        downs.append((src[entering], dst[entering], w[entering]))
        np.add.at(deleted_neighbours, dst[leaving], 1)
        np.add.at(deleted_neighbours, src[entering], 1)
        add = np.flatnonzero(needed & chosen[cv])
        if len(add):
            add = add[~_exact_witness(n, src, dst, w, cu[add], cx[add], via[add])]
        rest = ~(leaving | entering)
        src, dst, w = _dedupe(
            np.concatenate([src[rest], cu[add]]),
            np.concatenate([dst[rest], cx[add]]),
            np.concatenate([w[rest], via[add]]),
        )
        alive &= ~chosen
        rnd += 1
    level[alive] = rnd
    ups.append((src, dst, w))
    return level, ups, downs


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """The contracted graph: upward (plus core) edges as CSR, downward edges in sweep order."""

    level: IntArray
    up_indptr: IntArray
    up_indices: IntArray
    up_weight: FloatArray
    down_tail: IntArray  # sorted by (level of head descending, head)
    down_head: IntArray
    down_weight: FloatArray
    _up: sp.csr_matrix = field(init=False, repr=False)
    _reach: sp.csr_matrix = field(init=False, repr=False)

    @property
    def node_count(self) -> int:
        return len(self.level)

    def __post_init__(self) -> None:
        n = self.node_count
        up = sp.csr_matrix((self.up_weight, self.up_indices, self.up_indptr), shape=(n, n))
        # Reverse downward edges: which nodes can reach a target going down (for RPHAST).
        ones = np.ones(len(self.down_head), dtype=np.float64)
        reach = sp.csr_matrix((ones, (self.down_head, self.down_tail)), shape=(n, n))
        object.__setattr__(self, "_up", up)
        object.__setattr__(self, "_reach", reach)

    def to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]]) -> Hierarchy:
        def ints(name: str) -> IntArray:
            return np.asarray(arrays[name], dtype=np.int64)

        def floats(name: str) -> FloatArray:
            return np.asarray(arrays[name], dtype=np.float64)

        return cls(
            level=ints("level"),
            up_indptr=ints("up_indptr"),
            up_indices=ints("up_indices"),
            up_weight=floats("up_weight"),
            down_tail=ints("down_tail"),
            down_head=ints("down_head"),
            down_weight=floats("down_weight"),
        )

    def many_to_many(self, sources: IntArray, targets: IntArray) -> FloatArray:
        """Shortest-path weights from each source to each target node (inf if unreachable).

        A query costs (searches) × (sweep): the sweep runs once per search, over the nodes that
        lead to the other side. So the smaller side searches: from the sources (PHAST) when there
        are fewer of them, else backwards from the targets over the mirrored hierarchy. Both give
        the exact same integers (tested), e.g. a few new columns of a cached matrix cost a few
        searches, not one per row."""
        if not len(sources) or not len(targets):
            return np.full((len(sources), len(targets)), np.inf)
        if len(targets) < len(sources):
            return self._query(self._mirror(), targets, sources).T
        return self._query(self._forward(), sources, targets)

    def _forward(self) -> _Side:
        """Search up from the sources (upward and core edges), sweep the downward edges."""
        forward: _Side | None = self.__dict__.get("_forward_side")
        if forward is None:
            forward = _Side(self._up, self._reach, self.down_tail, self.down_head, self.down_weight, self.level)
            object.__setattr__(self, "_forward_side", forward)
        return forward

    def _mirror(self) -> _Side:
        """The same hierarchy for searches from the targets: backwards up the downward edges (and
        the core's edges), then a sweep down the upward edges reversed. Built on first use."""
        mirror: _Side | None = self.__dict__.get("_mirror_side")
        if mirror is not None:
            return mirror
        n = self.node_count
        up_src = np.repeat(np.arange(n, dtype=np.int64), np.diff(self.up_indptr))
        up_dst, up_w = self.up_indices, self.up_weight
        core = self.level[up_src] == self.level[up_dst]  # the core's edges join equal levels
        back = sp.csr_matrix(
            (
                np.concatenate([self.down_weight, up_w[core]]),
                (np.concatenate([self.down_head, up_dst[core]]), np.concatenate([self.down_tail, up_src[core]])),
            ),
            shape=(n, n),
        )
        # Sweep edge u <- v for each upward edge u -> v: heads are the lower ends, in the same
        # order as the forward sweep's (level of head descending, head).
        head, tail, weight = up_src[~core], up_dst[~core], up_w[~core]
        order = np.lexsort((head, -self.level[head]))
        head, tail, weight = head[order], tail[order], weight[order]
        reach = sp.csr_matrix((np.ones(len(head)), (head, tail)), shape=(n, n))  # nodes a source climbs to
        mirror = _Side(back, reach, tail, head, weight, self.level)
        object.__setattr__(self, "_mirror_side", mirror)
        return mirror

    @staticmethod
    def _query(side: _Side, sources: IntArray, targets: IntArray, *, by_level: bool | None = None) -> FloatArray:
        out = np.full((len(sources), len(targets)), np.inf)
        # Few sources (a few new rows or columns of a cached matrix): the sweep's ~1,000 buckets
        # cost their per-call overhead, not their work; a level at a time (~50 levels, a
        # segmented minimum each) is then faster. Many sources: buckets (reduceat costs more per
        # cell). Measured crossover: about 4 sources per bucket of a level (bike ~60, car ~25).
        if by_level is None:
            by_level = len(sources) <= _LEVEL_SWEEP_PER_BUCKET * side.buckets_per_level
        nodes, buckets, target_rows = side.level_plan(targets) if by_level else side.sweep_plan(targets)
        # Upward searches only reach the union of the sources' upward spaces (a few percent of a
        # city): search that subgraph, since scipy's Dijkstra costs O(graph) per source to set up.
        climb = np.flatnonzero(np.isfinite(dijkstra(side.search, indices=sources, min_only=True)))
        subgraph = side.search[climb][:, climb]
        starts = np.searchsorted(climb, sources)
        at = np.minimum(np.searchsorted(climb, nodes), len(climb) - 1)
        shared = climb[at] == nodes  # sweep nodes that an upward search can reach
        chunk = max(1, _QUERY_CELLS // max(len(nodes), len(climb)))
        for a in range(0, len(sources), chunk):
            block = starts[a : a + chunk]
            dist = np.full((len(nodes), len(block)), np.inf)  # node-major: gathers read whole rows
            dist[shared] = dijkstra(subgraph, indices=block)[:, at[shared]].T
            if by_level:
                for heads, tails, weights, segments in buckets:  # heads unique per level
                    arriving = dist[tails]
                    arriving += weights
                    best = np.minimum.reduceat(arriving, segments, axis=0)
                    np.minimum(best, dist[heads], out=best)
                    dist[heads] = best
            else:
                for heads, tails, weights, _ in buckets:
                    arriving = dist[tails]
                    arriving += weights
                    np.minimum(arriving, dist[heads], out=arriving)
                    dist[heads] = arriving
            out[a : a + chunk] = dist[target_rows].T
        return out


@dataclass(frozen=True, eq=False)
class _Side:
    """One direction of queries: the graph the searches climb, and the sweep that finishes them
    (edges tail -> head, sorted by the level of the head descending, then head)."""

    search: sp.csr_matrix
    reach: sp.csr_matrix  # head -> tail of each sweep edge: who can reach a target in the sweep
    tail: IntArray
    head: IntArray
    weight: FloatArray
    level: IntArray
    buckets_per_level: float = field(init=False)  # of the whole sweep: see Hierarchy._query

    def __post_init__(self) -> None:
        # The sweep's edge order, once for the whole graph: within a level, the k-th incoming edge
        # of every head forms bucket k (levels top-down). A query keeps the edges of the heads it
        # needs — all of a head's or none, so ranks and order stay — instead of sorting anew.
        heads = self.head
        first = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]]) if len(heads) else heads
        rank = np.arange(len(heads)) - np.repeat(first, np.diff(np.r_[first, len(heads)]))
        head_level = self.level[heads]
        order = np.lexsort((rank, -head_level))
        object.__setattr__(self, "_order", order)
        key = np.stack([head_level[order], rank[order]])
        bucket = np.r_[0, np.cumsum((key[:, 1:] != key[:, :-1]).any(axis=0))] if len(order) else order
        if len(order) == 0:
            object.__setattr__(self, "_bucket", bucket)
            object.__setattr__(self, "buckets_per_level", 1.0)
            return
        object.__setattr__(self, "_bucket", bucket)  # bucket number of each edge in that order
        levels = len(np.unique(head_level))  # 0 on a graph without edges
        object.__setattr__(self, "buckets_per_level", (int(bucket[-1]) + 1) / levels if levels else 1.0)

    def sweep_plan(self, targets: IntArray) -> tuple[IntArray, list[_Bucket], IntArray]:
        """The nodes that can reach a target in the sweep, and the sweep over them as buckets.

        Heads are unique in a bucket, so a plain gather/min/scatter is exact (and much faster
        than `minimum.reduceat`).
        """
        nodes, local = self._reachable(targets)
        order: IntArray = self.__dict__["_order"]
        kept = local[self.head[order]] >= 0  # a kept head's tails reach the target too
        edges = order[kept]
        bucket: IntArray = self.__dict__["_bucket"][kept]
        bounds = np.r_[0, np.flatnonzero(bucket[1:] != bucket[:-1]) + 1, len(edges)].tolist()
        heads, tails, weights = local[self.head[edges]], local[self.tail[edges]], self.weight[edges, None]
        # Slices, not np.split: a query has ~1,000 buckets and split's per-piece cost showed.
        buckets = [(heads[a:b], tails[a:b], weights[a:b], _NO_SEGMENTS) for a, b in pairwise(bounds)]
        return nodes, buckets, local[targets]

    def level_plan(self, targets: IntArray) -> tuple[IntArray, list[_Bucket], IntArray]:
        """The same sweep a level at a time: per level its edges by head (the stored order), the
        distinct heads, and where each head's edges start (for `minimum.reduceat`)."""
        nodes, local = self._reachable(targets)
        edges = np.flatnonzero(local[self.head] >= 0)
        heads, tails, weights = local[self.head[edges]], local[self.tail[edges]], self.weight[edges, None]
        level = self.level[self.head[edges]]
        cuts = np.flatnonzero(level[1:] != level[:-1]) + 1
        bounds = np.r_[0, cuts, len(edges)].tolist()
        buckets = []
        for a, b in pairwise(bounds):
            if a == b:  # no edges at all
                continue
            first = np.flatnonzero(np.r_[True, heads[a + 1 : b] != heads[a : b - 1]])
            buckets.append((heads[a:b][first], tails[a:b], weights[a:b], first))
        return nodes, buckets, local[targets]

    def _reachable(self, targets: IntArray) -> tuple[IntArray, IntArray]:
        """The nodes that can reach a target in the sweep, and their local numbers (-1: not)."""
        reach = dijkstra(self.reach, indices=targets, unweighted=True, min_only=True)
        nodes = np.flatnonzero(np.isfinite(reach)).astype(np.int64)
        local = np.full(len(self.level), -1, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        return nodes, local


def build_hierarchy(n: int, src: IntArray, dst: IntArray, weight: IntArray) -> Hierarchy:
    """Contract the directed graph with `n` nodes and integer edge weights ≥ 1.

    Number nodes spatially (nearby nodes, nearby ids) for fast construction; any order is correct.
    """
    if len(weight) and (weight.min() < 1 or weight.max() >= 2**52):
        raise ValueError("edge weights must be integers in [1, 2**52)")
    level, ups, downs = _contract(n, src.astype(np.int64), dst.astype(np.int64), weight.astype(np.int64))
    up_src, up_dst, up_w = (np.concatenate([g[i] for g in ups]) for i in range(3))
    up = sp.csr_matrix((up_w.astype(np.float64), (up_src, up_dst)), shape=(n, n))
    up.sort_indices()
    down_tail, down_head, down_w = (
        np.concatenate([g[i] for g in downs]) if downs else np.zeros(0, dtype=np.int64) for i in range(3)
    )
    order = np.lexsort((down_head, -level[down_head]))
    return Hierarchy(
        level=level,
        up_indptr=up.indptr.astype(np.int64),
        up_indices=up.indices.astype(np.int64),
        up_weight=up.data.astype(np.float64),
        down_tail=down_tail[order],
        down_head=down_head[order],
        down_weight=down_w[order].astype(np.float64),
    )
