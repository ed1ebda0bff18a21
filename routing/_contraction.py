"""Building a contraction hierarchy (queried by `routing._hierarchy`), in numpy and scipy only.

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

from typing import Any, Final

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from routing._hierarchy import Hierarchy

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_NO_PATH: Final = np.iinfo(np.int64).max // 4  # "no witness": above any real path weight
_CORE_FRACTION: Final = 0.01
_MAX_WITNESS_PAIRS: Final = 40_000_000  # 2-hop probes per round; beyond that the rest is core
_WITNESS_CHUNK: Final = 128  # exact witness searches run this many sources at a time
_CANDIDATE_SHARE: Final = 0.4  # each round prices this share of the nodes, fewest paths through first
_ELIGIBLE_SHARE: Final = 0.3  # besides local minima, contract candidates among this lower-priority share
_EXTRA_PICKS: Final = 1


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
