"""Greedy's choice of courier for one shipment, over all couriers at once with numpy.

The rule is `routing.greedy`'s: append the pickup (if any) and the delivery to the route of the
courier who reaches the shipment's first stop soonest, among those who can take it — room in
every capacity dimension, pickup within its window, a hard deadline kept, the max ride time kept,
back within their shift. Ties go to the smallest vehicle id. Trying the couriers one by one in
Python was most of greedy's time (300,000 tries at 1,000 orders × 300 couriers, 1.4 s); here each
shipment costs a few array operations per vehicle profile.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from routing.problem import Problem, Shipment

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class CourierTable:
    """Each courier's state at the end of their route so far, one row per vehicle id (sorted)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.ids = sorted(v.id for v in problem.vehicles)
        self.row = {vid: i for i, vid in enumerate(self.ids)}
        vehicles = [problem.vehicle(vid) for vid in self.ids]
        n, dims = len(vehicles), problem.dimensions
        self.time = np.array([v.shift[0] for v in vehicles], dtype=np.int64)
        self.location = np.array([v.start for v in vehicles], dtype=np.int64)
        self.end = np.array([-1 if v.end is None else v.end for v in vehicles], dtype=np.int64)
        self.shift_end = np.array([v.shift[1] for v in vehicles], dtype=np.int64)
        self.capacity = np.array([v.capacity for v in vehicles], dtype=np.int64).reshape(n, dims)
        self.left = np.zeros((n, dims), dtype=np.int64)
        self.loaded = np.zeros((n, dims), dtype=np.int64)  # depot goods + largest pickup so far
        # All profiles' durations as one stack, and each row's layer in it: a shipment's timing is
        # then one set of array operations over all couriers, not one per profile (a shipment
        # costs the operations' overhead, not their work).
        profiles = sorted({v.profile for v in vehicles})
        self.durations: IntArray = (
            np.stack([problem.matrices[p].durations.astype(np.int64, copy=False) for p in profiles])
            if profiles
            else np.zeros((0, 0, 0), dtype=np.int64)  # no couriers: `best` asks nothing of it
        )
        self.layer = np.array([profiles.index(v.profile) for v in vehicles], dtype=np.int64)

    def set(self, vehicle_id: str, *, time: int, location: int, left: Sequence[int], loaded: Sequence[int]) -> None:
        i = self.row[vehicle_id]
        self.time[i], self.location[i] = time, location
        self.left[i], self.loaded[i] = left, loaded

    def best(self, s: Shipment, allowed: Sequence[str] | None) -> tuple[str, int] | None:
        """(vehicle id, time free after the delivery) of the courier greedy picks, or None.
        `allowed`: the only vehicle ids that may take it (None: all)."""
        if not self.ids:
            return None
        problem = self.problem
        pickup = s.pickup if problem.has_pickup(s) else None
        demand = np.asarray(s.demand, dtype=np.int64)
        reach, free = self._timing(s, pickup)
        ok = free <= self.shift_end  # `free` already includes the way to a route's end
        if pickup is not None:
            ok &= np.all(self.left + demand <= self.capacity, axis=1)
        elif s.id not in problem.carrier:
            # Depot goods ride from the start beside every pickup: a conservative peak bound.
            ok &= np.all(self.loaded + demand <= self.capacity, axis=1)
        i = self._nearest(ok, reach, allowed)
        return None if i is None else (self.ids[i], int(free[i]) - self._way_home(i, s))

    def best_batch(self, batch: Sequence[Shipment], allowed: Sequence[str] | None) -> tuple[str, int] | None:
        """Like `best` for a batch of shipments from one store: all pickups there, then the
        deliveries in the batch's order."""
        if not self.ids:
            return None
        store = batch[0].pickup
        assert store is not None  # batches are formed from shipments with a pickup
        demand = np.sum([s.demand for s in batch], axis=0, dtype=np.int64)
        reach, free = self._batch_timing(batch, store)
        ok = (free <= self.shift_end) & np.all(self.left + demand <= self.capacity, axis=1)
        i = self._nearest(ok, reach, allowed)
        return None if i is None else (self.ids[i], int(free[i]) - self._way_home(i, batch[-1]))

    def _nearest(self, ok: BoolArray, reach: IntArray, allowed: Sequence[str] | None) -> int | None:
        """Row of the earliest-reaching vehicle among the feasible (and allowed) ones; ties go to
        the first row, the smallest id."""
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=np.bool_)
            mask[[self.row[v] for v in allowed]] = True
            ok = ok & mask
        if not ok.any():
            return None
        return int(np.flatnonzero(ok)[np.argmin(reach[ok])])

    def _batch_timing(self, batch: Sequence[Shipment], store: int) -> tuple[IntArray, IntArray]:
        m, layer = self.durations, self.layer
        reach = self.time + m[layer, self.location, store]
        picked = np.maximum(reach, max(s.pickup_window[0] for s in batch))
        bad = picked > min(s.pickup_window[1] for s in batch)
        picked_at = {}
        t = picked
        for s in batch:
            picked_at[s.id] = t
            t = t + s.pickup_service_s
        here = store
        for s in batch:
            t = np.maximum(t + m[layer, here, s.delivery], s.delivery_window[0])
            if s.hard_deadline:
                bad |= t > s.delivery_window[1]
            if s.max_ride_s is not None:
                bad |= t - picked_at[s.id] > s.max_ride_s
            t = t + s.delivery_service_s
            here = s.delivery
        ends = self.end
        home = np.where(ends >= 0, m[layer, here, np.maximum(ends, 0)], 0)
        return reach, np.where(bad, np.iinfo(np.int64).max // 4, t + home)

    def _timing(self, s: Shipment, pickup: int | None) -> tuple[IntArray, IntArray]:
        """Reach time and time back home (free + way to the end) per row; infeasible → huge."""
        m, layer, t, here = self.durations, self.layer, self.time, self.location
        never = np.iinfo(np.int64).max // 4
        if pickup is not None:
            reach = t + m[layer, here, pickup]
            picked = np.maximum(reach, s.pickup_window[0])
            start = np.maximum(picked + s.pickup_service_s + m[layer, pickup, s.delivery], s.delivery_window[0])
            bad = picked > s.pickup_window[1]
            if s.max_ride_s is not None:
                bad |= start - picked > s.max_ride_s
        else:
            reach = t + m[layer, here, s.delivery]
            start = np.maximum(reach, s.delivery_window[0])
            bad = np.zeros(len(t), dtype=np.bool_)
        if s.hard_deadline:
            bad |= start > s.delivery_window[1]
        ends = self.end
        home = np.where(ends >= 0, m[layer, s.delivery, np.maximum(ends, 0)], 0)
        return reach, np.where(bad, never, start + s.delivery_service_s + home)

    def _way_home(self, i: int, s: Shipment) -> int:
        end = int(self.end[i])
        if end < 0:
            return 0
        return int(self.durations[self.layer[i], s.delivery, end])
