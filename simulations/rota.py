"""The rota: where the demand is, and who is put where to meet it.

Neighbourhoods differ a lot (each store's surroundings get a lognormal share of the city's
orders), and an operator knows it from yesterday's orders: couriers are based at stores in
proportion to their expected orders, their shifts are laid over the day where the demand is, and
each store rosters enough pickers for the run's peak. Spreading couriers evenly over stores
instead leaves some zones idle while the busiest ones pile up packed orders nobody fetches.
"""

from __future__ import annotations

import itertools
import math
import random
import uuid
from collections.abc import Sequence
from typing import Protocol, TypeVar

from simulations.scenarios import Scenario, demand_weight

DENSITY_SIGMA = 0.6  # lognormal spread of the neighbourhoods' demand
MEAN_LINES = 2.76  # of the basket distribution (simulations.demand): 1 + floor(Exp(0.45)), at most 8
PICKER_LOAD = 0.75  # rostered so that pickers are busy this share of the peak hour
MAX_STAFF = 30
SHORT_RUN_S = 4 * 3600  # up to this long, everyone works the whole run
SHIFT_HOURS = (3.0, 8.0)  # peak shifts are short, day shifts long
SHIFT_SLOT_S = 900  # shifts start and end on the quarter hour
WIND_DOWN_S = 1800  # the last shifts run this long past the last order, to deliver it
# What a courier carries in an hour when the fleet keeps up: greedy dispatch on the simulated lunch
# peak delivered 2.7-3.0 orders per courier-hour with 98-99 % on time (docs/simulation.md). The
# day's rota asks for the hours that carry its expected orders at this rate.
ORDERS_PER_COURIER_HOUR = 3.0


class _Shop(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def code(self) -> str: ...


def demand_shares(stores: Sequence[_Shop], rng: random.Random) -> dict[uuid.UUID, float]:
    """Each store's share of the orders (summing to 1), drawn once per seed."""
    weights = [rng.lognormvariate(0, DENSITY_SIGMA) for _ in stores]
    total = sum(weights)
    return {store.id: w / total for store, w in zip(stores, weights, strict=True)}


S = TypeVar("S", bound=_Shop)


def courier_homes(stores: Sequence[S], shares: dict[uuid.UUID, float], couriers: int) -> list[S]:
    """The store each courier is based at, in proportion to the stores' shares (Sainte-Laguë:
    the n-th courier goes to the store whose share per courier already based there is largest,
    so small fleets still start at the busiest stores and every count is within one of its quota)."""
    based = dict.fromkeys((s.id for s in stores), 0)
    homes: list[S] = []
    for _ in range(couriers):
        store = max(stores, key=lambda s: (shares[s.id] / (2 * based[s.id] + 1), s.code))
        based[store.id] += 1
        homes.append(store)
    return homes


def peak_orders_per_hour(scenario: Scenario, share: float) -> float:
    """The store's expected orders in the run's busiest hour."""
    minutes = max(1, scenario.duration_s // 60)
    curve = [demand_weight(scenario.start_hour_utc + (m + 0.5) / 60) for m in range(minutes)]
    return scenario.orders * share * max(curve) / (sum(curve) / 60)


def pickers_needed(scenario: Scenario, share: float, *, seconds_per_line: int, pack_seconds: int) -> int:
    """Pickers a store rosters to pick and pack its peak hour at PICKER_LOAD."""
    work_s = seconds_per_line * MEAN_LINES + pack_seconds
    busy = peak_orders_per_hour(scenario, share) * work_s / 3600
    return min(MAX_STAFF, max(1, math.ceil(busy / PICKER_LOAD)))


def shifts(scenario: Scenario, homes: Sequence[S], rng: random.Random) -> list[tuple[float, float]]:
    """Each courier's shift (start, end) in seconds from the run's start, aligned with `homes`.

    A short run: everyone works all of it and the wind-down. A day: each store's couriers get
    shifts of 3-8 hours, placed one at a time (start and length) where that store's staffing
    falls furthest short of its demand curve; the first courier based there opens the day. The
    curve is scaled to the hours that carry the store's expected orders at ORDERS_PER_COURIER_HOUR
    (at most everyone's longest shift): scaled to the fleet's mean shift instead, the day of
    20,000 orders got 5,300 courier-hours and was 88 % on time.
    Centring shifts on moments drawn from the curve instead smoothed the peaks away and left the
    evening peak, at the end of the day where no shift can run past it, with about half the
    couriers it needed (249 per zone at 17 UTC against 379 at lunch)."""
    if scenario.duration_s <= SHORT_RUN_S:
        return [(0.0, float(scenario.duration_s + WIND_DOWN_S))] * len(homes)
    by_store: dict[uuid.UUID, list[int]] = {}
    for n, home in enumerate(homes):
        by_store.setdefault(home.id, []).append(n)
    windows: list[tuple[float, float]] = [(0.0, 0.0)] * len(homes)
    demand = _slot_demand(scenario)
    # Courier-slots per unit of demand that carry the run's orders at ORDERS_PER_COURIER_HOUR.
    run_demand = sum(demand[: scenario.duration_s // SHIFT_SLOT_S])
    per_weight = scenario.orders / ORDERS_PER_COURIER_HOUR * 3600 / SHIFT_SLOT_S / run_demand
    for members in by_store.values():
        wanted = [d * per_weight * len(members) / len(homes) for d in demand]
        for n, window in zip(members, _cover(wanted, len(members), rng), strict=True):
            windows[n] = window
    return windows


def _slot_demand(scenario: Scenario) -> list[float]:
    """Relative demand per quarter hour of the run and its wind-down (orders of the last minutes
    are still being delivered then)."""
    last = scenario.duration_s // SHIFT_SLOT_S
    slots = math.ceil((scenario.duration_s + WIND_DOWN_S) / SHIFT_SLOT_S)
    hour = scenario.start_hour_utc
    return [demand_weight(hour + (min(i, last - 1) + 0.5) * SHIFT_SLOT_S / 3600) for i in range(slots)]


def _cover(wanted: list[float], couriers: int, rng: random.Random) -> list[tuple[float, float]]:
    """Shifts one at a time, each (start and length) where it covers the most shortfall of the
    courier-slots `wanted`; ties are drawn. A fleet too small for them all covers them in
    proportion (everyone's longest shift, spread as the wanted slots are)."""
    shortest, longest = (round(h * 3600 / SHIFT_SLOT_S) for h in SHIFT_HOURS)
    longest = min(longest, len(wanted))
    spans = range(min(shortest, longest), longest + 1)
    scale = min(1.0, couriers * longest / sum(wanted))
    shortfall = [w * scale for w in wanted]  # minus the courier-slots rostered so far
    windows = []
    for n in range(couriers):
        if n == 0:  # the first courier based at the store opens it
            start, length = 0, longest
        else:
            sums = [0.0, *itertools.accumulate(shortfall)]
            gain = {(s, span): sums[s + span] - sums[s] for span in spans for s in range(len(wanted) - span + 1)}
            best = max(gain.values())
            start, length = rng.choice([k for k, g in gain.items() if g >= best - 1e-9])
        for i in range(start, start + length):
            shortfall[i] -= 1
        windows.append((float(start * SHIFT_SLOT_S), float((start + length) * SHIFT_SLOT_S)))
    return windows
