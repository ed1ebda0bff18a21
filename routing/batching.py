"""Batches: orders of one store that one courier should carry together.

Greedy with batches (`routing.greedy.greedy(..., batching=True)`) is the construction a large
dispatch search starts from: plain greedy sends a courier to the store for every single order,
which is most of its travel when a store has dozens of orders ready within minutes of each other.
A batch chains orders of one store ready within `WINDOW_S` of its first: each next door is the
nearest remaining one to the previous door, and only if riding there from that door is clearly
shorter than from the store (`HOP_SHARE`), the batch fits the fleet's typical vehicle, and no
order in it is expected later than it would be alone (beyond its deadline).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence

import numpy as np
import numpy.typing as npt

from routing.problem import Problem, Shipment

#: Orders ready this long after a batch's first may join it.
WINDOW_S = 420
#: A door joins when the hop from the previous door is at most this share of the ride from the store.
HOP_SHARE = 0.75
#: Most orders in one batch.
MAX_ORDERS = 3


def batches(problem: Problem, excluded: Collection[str]) -> list[tuple[Shipment, ...]]:
    """Batches (most of one order) of the shipments that are free to batch: a pickup still to
    do, not fixed to a vehicle, not part of a group, not in `excluded` (unservable ones)."""
    if not problem.vehicles:
        return []
    profiles = [v.profile for v in problem.vehicles]
    m = problem.matrices[max(set(profiles), key=profiles.count)].durations
    room = tuple(int(c) for c in np.median([v.capacity for v in problem.vehicles], axis=0))
    by_store: dict[int, list[Shipment]] = {}
    for s in problem.shipments:
        free = s.group is None and s.id not in problem.promised and s.id not in excluded
        if free and s.pickup is not None and problem.has_pickup(s):
            by_store.setdefault(s.pickup, []).append(s)
    out: list[tuple[Shipment, ...]] = []
    for store, items in by_store.items():
        pending = sorted(items, key=lambda s: (s.pickup_window[0], s.id))
        while pending:
            batch = [pending.pop(0)]
            while len(batch) < MAX_ORDERS and (nxt := _next(m, store, batch, pending, room)) is not None:
                batch.append(nxt)
                pending.remove(nxt)
            out.append(_riding_order(m, store, batch))
    return out


def _riding_order(m: npt.NDArray[np.int64], store: int, batch: Sequence[Shipment]) -> tuple[Shipment, ...]:
    """The batch's doors nearest-first from the store (chained from its first-ready order, the
    batch may lead away and back)."""
    tour: list[Shipment] = []
    here, left = store, list(batch)
    while left:
        nxt = min(left, key=lambda s: (int(m[here, s.delivery]), s.id))
        tour.append(nxt)
        left.remove(nxt)
        here = nxt.delivery
    return tuple(tour)


def _next(
    m: npt.NDArray[np.int64], store: int, batch: Sequence[Shipment], pending: Sequence[Shipment], room: tuple[int, ...]
) -> Shipment | None:
    """The pending order to add to `batch` (the nearest door to its last that qualifies), or None."""
    ready_by = batch[0].pickup_window[0] + WINDOW_S
    window = list(itertools.takewhile(lambda s: s.pickup_window[0] <= ready_by, pending))  # sorted by ready
    if not window:
        return None
    doors = np.fromiter((s.delivery for s in window), dtype=np.int64, count=len(window))
    hops = m[batch[-1].delivery, doors]
    load = np.sum([s.demand for s in batch], axis=0)
    fits = np.all(load + np.asarray([s.demand for s in window]) <= np.asarray(room), axis=1)
    ok = np.flatnonzero((hops <= HOP_SHARE * m[store, doors]) & fits)
    late = _late(m, store, batch)
    for i in ok[np.argsort(hops[ok], kind="stable")]:
        s = window[int(i)]
        if _late(m, store, _riding_order(m, store, [*batch, s])) <= late + _late(m, store, [s]):
            return s
    return None


def _late(m: npt.NDArray[np.int64], store: int, batch: Sequence[Shipment]) -> int:
    """Seconds late in total if a courier picks the batch up the moment it is ready."""
    t = max(s.pickup_window[0] for s in batch) + sum(s.pickup_service_s for s in batch)
    here, late = store, 0
    for s in batch:
        t = max(t + int(m[here, s.delivery]), s.delivery_window[0])
        late += max(0, t - s.delivery_window[1])
        t, here = t + s.delivery_service_s, s.delivery
    return late
