"""The named scenarios of `o2o simulate` and the demand curve they share.

A scenario says how long the simulated stretch of the day is, how many orders customers place in
it and how many couriers work it, plus the disruptions (storm, store outage). `scaled()` shrinks
one for tests and quick looks without changing its shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

ScenarioName = Literal["lunch_peak", "city_day", "storm", "store_outage"]
SCENARIO_NAMES: tuple[ScenarioName, ...] = ("lunch_peak", "city_day", "storm", "store_outage")
# A Wednesday in June: every store is open, no holiday. Hours are UTC; the seeded city is in
# Europe/Berlin (UTC+2 in June), so 09:00 UTC is 11:00 local.
DAY = datetime(2026, 6, 3, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    start_hour_utc: float
    duration_s: int
    orders: int  # expected orders over the whole run
    couriers: int
    # Storm: from `storm_at_s` on, vehicles move at `storm_speed` of their speed and customers
    # order `storm_demand` times as much.
    storm_at_s: int | None = None
    storm_speed: float = 0.6
    storm_demand: float = 1.5
    # Outage: the busiest store closes at this moment; its open orders must go elsewhere.
    outage_at_s: int | None = None
    absent_share: float = 0.03  # customers not at home when the courier rings
    cancel_share: float = 0.02  # customers who cancel within minutes of ordering
    offline_share: float = 0.05  # couriers who end their shift early
    break_share: float = 0.3  # couriers who take one break (when idle) in a long shift
    start_at: datetime | None = None  # live runs start now; others on the fixed DAY

    def starting(self, at: datetime) -> Scenario:
        """The same scenario starting at `at` (a live run starts at the wall clock's now)."""
        return replace(self, start_at=at, start_hour_utc=at.hour + at.minute / 60)

    @property
    def start(self) -> datetime:
        if self.start_at is not None:
            return self.start_at
        return DAY.replace(hour=int(self.start_hour_utc), minute=round(self.start_hour_utc % 1 * 60))

    def scaled(self, factor: float, *, duration_s: int | None = None) -> Scenario:
        """The same scenario with `factor` × its orders and couriers (and optionally shorter)."""
        if not 0 < factor <= 10:
            raise ValueError("scale must be in (0, 10]")
        duration = duration_s or self.duration_s
        orders = max(1, round(self.orders * factor * duration / self.duration_s))
        return replace(
            self,
            duration_s=duration,
            orders=orders,
            couriers=max(2, round(self.couriers * factor)),
            storm_at_s=None if self.storm_at_s is None else min(self.storm_at_s, duration // 2),
            outage_at_s=None if self.outage_at_s is None else min(self.outage_at_s, duration // 3),
        )

    def with_fleet(self, couriers: int) -> Scenario:
        """The same demand worked by `couriers` couriers (fleet-sizing studies)."""
        if not 1 <= couriers <= 5000:
            raise ValueError("couriers must be in 1..5000")
        return replace(self, couriers=couriers)


# The lunch peak keeps the fleet of 120: at ~1,750 orders in its busiest hour that fleet is
# saturated in this city (a courier carries 4–5 orders an hour here); `--couriers 400` is a fleet
# that keeps up (docs/simulation.md). The day's fleet is sized for its peaks: each courier works one
# shift of 3–8 h (simulations.rota), and 1,400 of them are about what the breakfast, lunch and
# evening peaks (~3,300 orders in the busiest hour) need at ~3 orders per courier-hour; 1,000 gave
# the evening peak two thirds of that.
SCENARIOS: dict[str, Scenario] = {
    "lunch_peak": Scenario("lunch_peak", start_hour_utc=9.0, duration_s=2 * 3600, orders=3000, couriers=120),
    "city_day": Scenario("city_day", start_hour_utc=6.0, duration_s=12 * 3600, orders=20_000, couriers=1400),
    "storm": Scenario("storm", start_hour_utc=9.0, duration_s=2 * 3600, orders=3000, couriers=120, storm_at_s=3600),
    "store_outage": Scenario(
        "store_outage", start_hour_utc=9.0, duration_s=2 * 3600, orders=3000, couriers=120, outage_at_s=2400
    ),
}


def demand_weight(hour_utc: float) -> float:
    """Relative order rate by hour of the day (Berlin local = UTC+2): breakfast, lunch and evening
    peaks over a low base, as delivery apps see them."""
    local = (hour_utc + 2) % 24
    peaks = ((8.0, 1.0, 0.5), (12.5, 1.2, 1.0), (19.0, 1.3, 1.3))  # (centre, width h, height)
    return 0.15 + sum(height * math.exp(-(((local - centre) / width) ** 2) / 2) for centre, width, height in peaks)
