"""The rota: where the demand is, and who is put where to meet it.

Neighbourhoods differ a lot (each store's surroundings get a lognormal share of the city's
orders), and an operator knows it from yesterday's orders: couriers are based at stores in
proportion to their expected orders, and each store rosters enough pickers for the run's peak.
Spreading couriers evenly over stores instead leaves some zones idle while the busiest ones
pile up packed orders nobody fetches.
"""

from __future__ import annotations

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
