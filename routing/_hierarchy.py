"""A contraction hierarchy's queries: many-to-many shortest paths, in numpy and scipy only.

Why: plain `scipy.sparse.csgraph.dijkstra` settles the whole graph once per source (~8 ms on a
50,000-node city), so a 500×500 matrix costs ~4 s. A hierarchy answers it in well under a second:
each source climbs a small "upward" graph (scipy's Dijkstra on few nodes), then one downward sweep
over the nodes in reverse contraction order (PHAST) finishes all targets at once, vectorised over
the sources. The sweep only visits nodes that can reach a target (RPHAST).

The hierarchy is built by `routing._contraction`; this module only stores and queries it.
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

_QUERY_CELLS: Final = 8_000_000  # float64 cells of the source-chunk × node working array
_LEVEL_SWEEP_PER_BUCKET: Final = 4  # see Hierarchy._query
# heads, tails, weights (as a column), and for a level-at-a-time sweep where each head's edges start
_Bucket = tuple[IntArray, IntArray, FloatArray, IntArray]
_NO_SEGMENTS: Final = np.zeros(0, dtype=np.int64)


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
        if not len(edges):
            return nodes, [], local[targets]
        # Where each head's edges start, and where each level's do (a new level is a new head):
        # found once over all levels, since per-level numpy calls cost more than their work here.
        first = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]])
        level = self.level[self.head[edges[first]]]
        level_first = np.flatnonzero(np.r_[True, level[1:] != level[:-1]])
        bounds = np.r_[first[level_first], len(edges)].tolist()
        groups = np.r_[level_first, len(first)].tolist()
        buckets = []
        for (a, b), (i, j) in zip(pairwise(bounds), pairwise(groups), strict=True):
            starts = first[i:j]
            buckets.append((heads[starts], tails[a:b], weights[a:b], starts - a))
        return nodes, buckets, local[targets]

    def _reachable(self, targets: IntArray) -> tuple[IntArray, IntArray]:
        """The nodes that can reach a target in the sweep, and their local numbers (-1: not)."""
        reach = dijkstra(self.reach, indices=targets, unweighted=True, min_only=True)
        nodes = np.flatnonzero(np.isfinite(reach)).astype(np.int64)
        local = np.full(len(self.level), -1, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        return nodes, local
