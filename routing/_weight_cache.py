"""Shortest-path weights between graph nodes, remembered across queries (bounded, least recently
used out first).

Why: a dispatch cycle asks for the matrix between the same stores and doors every 30 seconds;
only the couriers (and a few new orders) move. Weights are exact integers (routing._routable), and
a shortest-path weight does not depend on which other nodes were asked for with it, so a weight
computed once is the weight forever: the cache returns bit-identical matrices (tested), and only
computes the pairs it has not seen — the rows of new nodes, then the columns into them.

Pairs are kept in one square table over `limit` slots (a node gets a slot on first use); a pair
that was never asked for together (two zones' points) stays NaN and is never computed. When the
slots run out, the nodes used least recently give theirs up; a query larger than the table
bypasses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Compute = Callable[[IntArray, IntArray], FloatArray]

DEFAULT_LIMIT: Final = 1_024  # slots per profile: a 1,024² float64 table is 8 MB


class WeightCache:
    """Weights between local node ids of one graph with `node_count` nodes."""

    def __init__(self, node_count: int, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.limit = limit
        self._slot_of = np.full(node_count, -1, dtype=np.int64)
        self._node_in = np.full(limit, -1, dtype=np.int64)  # slot -> node, -1 when free
        self._used = np.zeros(limit, dtype=np.int64)  # slot -> tick of its last query
        self._table: FloatArray | None = None  # allocated on first use
        self._tick = 0
        self.computed_pairs = 0  # weights actually computed (for tests and benchmarks)

    def weights(self, nodes: IntArray, compute: Compute) -> FloatArray:
        """Weights between the (unique) `nodes`, in their order; `compute(sources, targets)` gives
        the ones not known yet."""
        if len(nodes) > self.limit:
            self.computed_pairs += len(nodes) ** 2
            return compute(nodes, nodes)
        if self._table is None:
            self._table = np.full((self.limit, self.limit), np.nan)
        self._tick += 1
        known = self._slot_of[nodes]
        new = known < 0
        last_used = np.where(new, self._tick, self._used[known])
        # Stamp this query's known nodes first, so that admitting the new ones never evicts them.
        self._used[known[~new]] = self._tick
        if new.any():
            self._admit(nodes[new])
        slots = self._slot_of[nodes]
        self._used[slots] = self._tick
        grid = np.ix_(slots, slots)
        sub = self._table[grid]
        # Rows to compute: new nodes, and known ones never asked for with some other node here.
        # Such a hole is a node back after a while (a courier on a street corner seen cycles ago)
        # next to nodes added since (the doors of new orders); the one seen longer ago is asked
        # for (ties by position), so that its return costs its own row and column, not the rows
        # of every door added meanwhile. Then the columns into those from the rest: two queries
        # at most, and no pair is missing afterwards.
        holes = np.isnan(sub) & ~new[:, None] & ~new[None, :]
        order = np.arange(len(nodes))
        row_older = (last_used[:, None] < last_used[None, :]) | (
            (last_used[:, None] == last_used[None, :]) & (order[:, None] < order[None, :])
        )
        fresh = new | (holes & row_older).any(axis=1) | (holes & ~row_older).any(axis=0)
        if fresh.any():
            sub[fresh, :] = compute(nodes[fresh], nodes)
            rest = ~fresh
            self.computed_pairs += int(fresh.sum()) * len(nodes)
            if rest.any():
                sub[np.ix_(rest, fresh)] = compute(nodes[rest], nodes[fresh])
                self.computed_pairs += int(rest.sum() * fresh.sum())
        self._table[grid] = sub
        return sub

    def _admit(self, nodes: IntArray) -> None:
        """Give each node a slot, freeing those used least recently when none is free."""
        free = np.flatnonzero(self._node_in < 0)
        if len(free) < len(nodes):
            assert self._table is not None
            in_use = np.flatnonzero(self._node_in >= 0)
            victims = in_use[np.argsort(self._used[in_use], kind="stable")[: len(nodes) - len(free)]]
            self._slot_of[self._node_in[victims]] = -1
            self._node_in[victims] = -1
            self._table[victims, :] = np.nan
            self._table[:, victims] = np.nan
            free = np.flatnonzero(self._node_in < 0)
        slots = free[: len(nodes)]
        self._node_in[slots] = nodes
        self._slot_of[nodes] = slots
