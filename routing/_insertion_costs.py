"""What inserting a shipment into one route costs, for many shipments and every position at once.

A route is scheduled as early as the windows allow (as `routing.plan.build_plan` does). Stops
inserted into it push the stops after them later; a push shrinks by every wait for a window to
open on its way, so a push δ arriving at node j reaches node k as max(0, δ − waits of j..k).
One pass over the route keeps, per node, its wait, the latest push its hard constraints allow
(pickup window, hard deadline, max ride, shift end), how far it is from being late and what each
second later costs there (lateness of a soft delivery, waiting goods at a pickup). Then the
cost and feasibility of every (pickup position, delivery position) pair of every shipment are a
few numpy operations over a (shipments × pickup position × delivery position) array, instead of
re-scheduling the route once per candidate (a thousand candidates per shipment at 60 couriers).

Node numbering: node 0 is the start, nodes 1..n the route's stops, node n+1 its end (for an open
route a virtual end right where the last stop is). "Position a" means "right after node a".

Two simplifications make the figures here an estimate, which is why `routing.insertion` re-checks
each insertion exactly before making it:
- a push is never negative: a detour shorter than the leg it replaces (rounding in the matrices)
  is priced as no gain;
- a max ride already on the route is a deadline for its delivery (pickup start + max ride): exact
  unless the pickup is pushed too, and then on the safe side.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from routing.plan import Stop, starts_loaded
from routing.problem import TIME_MAX, Problem, Shipment, Vehicle

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: "No limit" for a slack: beyond any time of a problem, far from int64 overflow.
NO_LIMIT = 4 * TIME_MAX


@dataclass(frozen=True, slots=True)
class Units:
    """Single shipments to insert, one array entry each. `pickup` is -1 for goods that ride from
    the start (on board, or depot goods): those get a delivery only."""

    pickup: IntArray
    delivery: IntArray
    pickup_open: IntArray
    pickup_close: IntArray
    pickup_service: IntArray
    delivery_open: IntArray
    delivery_close: IntArray
    delivery_service: IntArray
    hard: BoolArray
    lateness_cost: FloatArray
    pickup_wait_cost: FloatArray  # 0 for goods that ride from the start
    max_ride: IntArray
    demand: IntArray  # (units, dimensions)

    @classmethod
    def of(cls, problem: Problem, shipments: Sequence[Shipment]) -> Units:
        def ints(values: list[int]) -> IntArray:
            return np.asarray(values, dtype=np.int64)

        s = shipments
        return cls(
            pickup=ints([x.pickup if x.pickup is not None and problem.has_pickup(x) else -1 for x in s]),
            delivery=ints([x.delivery for x in s]),
            pickup_open=ints([x.pickup_window[0] for x in s]),
            pickup_close=ints([x.pickup_window[1] for x in s]),
            pickup_service=ints([x.pickup_service_s for x in s]),
            delivery_open=ints([x.delivery_window[0] for x in s]),
            delivery_close=ints([x.delivery_window[1] for x in s]),
            delivery_service=ints([x.delivery_service_s for x in s]),
            hard=np.asarray([x.hard_deadline for x in s], dtype=np.bool_),
            lateness_cost=np.asarray([0 if x.hard_deadline else x.lateness_cost for x in s], dtype=np.float64),
            pickup_wait_cost=np.asarray(
                [x.pickup_wait_cost if problem.has_pickup(x) else 0 for x in s], dtype=np.float64
            ),
            max_ride=ints([NO_LIMIT if x.max_ride_s is None else x.max_ride_s for x in s]),
            demand=np.asarray([x.demand for x in s], dtype=np.int64).reshape(len(s), problem.dimensions),
        )


class RouteState:
    """One route's schedule, reduced to what pricing an insertion needs."""

    def __init__(self, problem: Problem, vehicle: Vehicle, stops: Sequence[Stop]) -> None:
        m = problem.matrices[vehicle.profile]
        self.durations = m.durations
        self.costs = m.distances if problem.objective == "distance" else m.durations
        self.capacity = np.asarray(vehicle.capacity, dtype=np.int64)
        durations = self.durations
        load = [0] * problem.dimensions
        for sid in {s.shipment_id for s in stops if s.kind == "delivery"}:
            shipment = problem.shipment(sid)
            if starts_loaded(problem, shipment):
                load = [a + d for a, d in zip(load, shipment.demand, strict=True)]
        t, loc = vehicle.shift[0], vehicle.start
        locs, dep, loads = [loc], [t], [load]
        arr: list[int] = []
        wait: list[int] = []
        slack: list[int] = []  # latest push of each node's service start
        rate: list[int] = []  # cost per second of a later start (soft deliveries, pickups)
        on_time: list[int] = []  # seconds a node could start later at no cost
        picked: dict[str, int] = {}
        for stop in stops:
            s = problem.shipment(stop.shipment_id)
            pickup = stop.kind == "pickup"
            here = s.pickup if pickup and s.pickup is not None else s.delivery
            arrival = t + int(durations[loc, here])
            window = s.pickup_window if pickup else s.delivery_window
            begin = max(arrival, window[0])
            if pickup:
                latest = window[1]
                picked[s.id] = begin
            else:
                latest = window[1] if s.hard_deadline else NO_LIMIT
                if s.max_ride_s is not None and s.id in picked:
                    latest = min(latest, picked[s.id] + s.max_ride_s)
            soft = not pickup and not s.hard_deadline
            arr.append(arrival)
            wait.append(begin - arrival)
            slack.append(latest - begin)
            # A pickup starts at or after its window opens: every second later has its price.
            rate.append(s.pickup_wait_cost if pickup else s.lateness_cost if soft else 0)
            on_time.append(max(0, window[1] - begin) if soft else 0)
            sign = 1 if pickup else -1
            load = [a + sign * d for a, d in zip(load, s.demand, strict=True)]
            t = begin + (s.pickup_service_s if pickup else s.delivery_service_s)
            locs.append(here)
            dep.append(t)
            loads.append(load)
            loc = here
        closed = vehicle.end is not None
        end_arrival = t + (int(durations[loc, vehicle.end]) if vehicle.end is not None else 0)
        arr.append(end_arrival)
        wait.append(0)
        slack.append(vehicle.shift[1] - end_arrival)
        n = len(stops)
        size = n + 1  # insertion positions 0..n
        self.size = size
        self.locs = np.asarray(locs, dtype=np.int64)
        # The node after each position; an open route's virtual end is "anywhere" (`live` = 0).
        self.after = np.asarray([*locs[1:], vehicle.end if vehicle.end is not None else 0], dtype=np.int64)
        self.live = np.ones(size, dtype=np.int64)
        self.live[-1] = int(closed)
        self.dep = np.asarray(dep, dtype=np.int64)
        self.arr = np.asarray(arr, dtype=np.int64)  # arrival at node a+1, per position a
        waits = np.concatenate([[0], np.cumsum(wait)]).astype(np.int64)  # W[k]: waits of nodes 1..k
        w = waits[:size]
        self.waited = w[None, :] - w[:, None]  # [a, b]: waits of nodes a+1..b
        limits = np.asarray(slack, dtype=np.int64) + waits[1:]  # per node 1..n+1, in W terms
        self.next_limit = np.minimum.accumulate(limits[::-1])[::-1] - w  # push allowed at node b+1
        between = np.full((size, size), NO_LIMIT, dtype=np.int64)  # push allowed at node a+1 for b > a
        peak = np.zeros((size, size, problem.dimensions), dtype=np.int64)  # most on board over nodes a..b
        load_rows = np.asarray(loads, dtype=np.int64).reshape(size, problem.dimensions)
        for a in range(size):
            between[a, a + 1 :] = np.minimum.accumulate(limits[a:n]) - w[a]
            peak[a, a:] = np.maximum.accumulate(load_rows[a:], axis=0)
        self.between = between
        self.peak = peak
        self.ordered = np.triu(np.ones((size, size), dtype=np.bool_))
        self.base = self.costs[self.locs, self.after] * self.live
        soft_nodes = np.flatnonzero(np.asarray(rate[:n]) > 0) + 1
        self.soft_rate = np.asarray([rate[k - 1] for k in soft_nodes], dtype=np.float64)
        # tau[x, k]: push at node x+1 beyond which soft node k starts costing; inf for k <= x.
        tau = np.full((size, len(soft_nodes)), np.inf)
        for j, k in enumerate(soft_nodes):
            tau[:k, j] = waits[k] - w[:k] + on_time[k - 1]
        self.tau = tau
        self.soft_upto = np.searchsorted(soft_nodes, np.arange(size), side="right")

    def _late_after(self, push: IntArray) -> FloatArray:
        """Extra lateness and waiting cost of the nodes after position b for `push[..., b]` at
        node b+1."""
        if not self.soft_rate.size:
            return np.zeros(push.shape)
        over = np.maximum(0.0, push[..., None] - self.tau)
        return np.asarray((over * self.soft_rate).sum(axis=-1), dtype=np.float64)

    def pickup_delivery(self, u: Units, idx: IntArray, extra: FloatArray) -> tuple[FloatArray, IntArray, IntArray]:
        """Cheapest insertion of each unit `idx` (with a pickup): its cost (travel, lateness and
        waiting of every stop, plus `extra`; inf when nothing fits) and positions a <= b of the
        pickup and the delivery (a == b: the delivery right after the pickup)."""
        durations, costs, live = self.durations, self.costs, self.live[None, :]
        p, d = u.pickup[idx][:, None], u.delivery[idx][:, None]
        la, ln = self.locs[None, :], self.after[None, :]
        start_p = np.maximum(self.dep[None, :] + durations[la, p], u.pickup_open[idx][:, None])
        ok_p = start_p <= u.pickup_close[idx][:, None]
        dep_p = start_p + u.pickup_service[idx][:, None]
        push_p = np.maximum(0, dep_p + durations[p, ln] * live - self.arr[None, :])
        # The delivery after node b > a: node b leaves later by what is left of the push.
        dep_b = self.dep[None, None, :] + np.maximum(0, push_p[:, :, None] - self.waited[None])
        arr_d = dep_b + durations[la, d][:, None, :]
        diag = np.arange(self.size)
        arr_d[:, diag, diag] = dep_p + durations[p, d]  # right after its own pickup
        close, hard = u.delivery_close[idx][:, None, None], u.hard[idx][:, None, None]
        start_d = np.maximum(arr_d, u.delivery_open[idx][:, None, None])
        dep_d = start_d + u.delivery_service[idx][:, None, None]
        push_d = np.maximum(0, dep_d + (durations[d, ln] * live)[:, None, :] - self.arr[None, None, :])
        ok = (
            self.ordered[None]
            & ok_p[:, :, None]
            & ~(hard & (start_d > close))
            & (start_d - start_p[:, :, None] <= u.max_ride[idx][:, None, None])
            & (push_p[:, :, None] <= self.between[None])
            & (push_d <= self.next_limit[None, None, :])
            & np.all(self.peak[None] + u.demand[idx][:, None, None, :] <= self.capacity, axis=-1)
        )
        ins_p = costs[la, p] + costs[p, ln] * live - self.base[None, :]
        ins_d = costs[la, d] + costs[d, ln] * live - self.base[None, :]
        total = (ins_p[:, :, None] + ins_d[:, None, :]).astype(np.float64)
        total[:, diag, diag] = costs[la, p] + costs[p, d] + costs[d, ln] * live - self.base[None, :]
        total += np.maximum(0, start_d - close) * u.lateness_cost[idx][:, None, None]
        total += ((start_p - u.pickup_open[idx][:, None]) * u.pickup_wait_cost[idx][:, None])[:, :, None]
        total += self._late_after(push_d) + extra[:, None, None]
        if self.soft_rate.size:  # the stops between the two, pushed by the pickup
            over = np.maximum(0.0, push_p[:, :, None] - self.tau[None]) * self.soft_rate
            between = np.concatenate([np.zeros((*over.shape[:2], 1)), np.cumsum(over, axis=2)], axis=2)
            total += between[:, :, self.soft_upto]
        total[~ok] = np.inf
        flat = total.reshape(len(idx), -1)
        best = np.argmin(flat, axis=1)
        return flat[np.arange(len(idx)), best], best // self.size, best % self.size

    def delivery(self, u: Units, idx: IntArray, extra: FloatArray) -> tuple[FloatArray, IntArray]:
        """Like `pickup_delivery` for goods that ride from the start: cost and position b."""
        durations, costs, live = self.durations, self.costs, self.live[None, :]
        d = u.delivery[idx][:, None]
        la, ln = self.locs[None, :], self.after[None, :]
        close = u.delivery_close[idx][:, None]
        start_d = np.maximum(self.dep[None, :] + durations[la, d], u.delivery_open[idx][:, None])
        dep_d = start_d + u.delivery_service[idx][:, None]
        push_d = np.maximum(0, dep_d + durations[d, ln] * live - self.arr[None, :])
        ok = (
            ~(u.hard[idx][:, None] & (start_d > close))
            & (push_d <= self.next_limit[None, :])
            & np.all(self.peak[0][None] + u.demand[idx][:, None, :] <= self.capacity, axis=-1)
        )
        total = (costs[la, d] + costs[d, ln] * live - self.base[None, :]).astype(np.float64)
        total += np.maximum(0, start_d - close) * u.lateness_cost[idx][:, None]
        total += self._late_after(push_d) + extra[:, None]
        total[~ok] = np.inf
        best = np.argmin(total, axis=1)
        return total[np.arange(len(idx)), best], best

    def block_travel(self, pickups: Sequence[int], deliveries: Sequence[int]) -> FloatArray:
        """Extra travel cost of visiting the locations `pickups` in turn right after node a and
        `deliveries` in turn right after node b, per [a, b] (inf for b < a); a lower bound of
        inserting a group's parts that way, whose lateness only adds to it."""
        costs, live, la, ln = self.costs, self.live, self.locs, self.after

        def path(locations: Sequence[int]) -> int:
            return sum(int(costs[x, y]) for x, y in itertools.pairwise(locations))

        def block(locations: Sequence[int]) -> IntArray:
            if not locations:  # nothing to visit there (a group whose goods are all on board)
                return np.zeros(self.size, dtype=np.int64)
            out = costs[la, locations[0]] + path(locations) + costs[locations[-1], ln] * live - self.base
            return np.asarray(out, dtype=np.int64)

        total = block(pickups)[:, None] + block(deliveries)[None, :]
        diag = np.arange(self.size)
        total[diag, diag] = block([*pickups, *deliveries])
        return np.where(self.ordered, total, np.inf)
