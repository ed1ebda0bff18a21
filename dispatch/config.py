"""Knobs of the dispatch cycle, read from `O2O_DISPATCH_*` environment variables.

The cycle period itself is `core.settings.Settings.dispatch_cycle_period_s`, because beat (in the
kernel) schedules it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Policy = Literal["vrp", "greedy"]
#: `solver_work` of a simulated city's cycles (`o2o simulate`): about the parts that a 1 s limit
#: searched per process on this 2-core machine (17–32 on a 300-courier lunch peak, sharing it).
SIMULATED_SOLVER_WORK = 24


class DispatchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="O2O_DISPATCH_", extra="ignore")

    policy: Policy = "vrp"
    time_limit_s: float = Field(default=1.0, ge=0.1, le=60.0, allow_inf_nan=False)
    # When set, each cycle's search is bounded by this much work instead of `time_limit_s` (parts
    # searched per solver process in a city-sized search by parts, solutions in a small one), so
    # that the same snapshot gives the same plan on any machine at any load: what a simulation
    # needs for "same seed, same KPIs". Live dispatch keeps the time limit: a cycle must end in time.
    solver_work: int | None = Field(default=None, ge=1, le=10_000)
    # Solver processes per cycle (routing's portfolio); the 2-core machines want at most 2.
    solver_workers: int = Field(default=2, ge=1, le=16)
    # The zone lock outlives any sane cycle; if a worker dies, the zone frees itself after this.
    lock_ttl_s: int = Field(default=60, ge=5, le=3600)
    # Moving an order to another courier must save at least this many seconds of driving
    # (or lateness): couriers are told less often that their plan changed.
    reassignment_cost_s: int = Field(default=300, ge=0, le=86_400)
    drop_penalty_s: int = Field(default=36_000, ge=1, le=10_000_000)
    lateness_weight: int = Field(default=2, ge=0, le=100)
    # Each second a packed order waits at its store for a courier costs this many seconds of
    # driving: without it an order on time costs nothing more for waiting, so the solver queues it
    # behind a busy courier's batch while idle couriers stand by until the promise is nearly due.
    # 3 measured best of 0/1/3/6 on a saturated simulated lunch peak (docs/simulation.md).
    pickup_wait_weight: int = Field(default=3, ge=0, le=100)
    # Each second of route time before a delivery (the customer's wait for the courier's other
    # stops, routing's `delay_cost`) costs this many seconds of driving. Without it a delivery
    # anywhere before the promise costs the same, and the solver fills each promise's slack with
    # other customers' drop-offs (ride p90 20.7 min against greedy's 12.8 on a simulated lunch
    # peak; 15.3 with 1, 13.4 with 3, docs/simulation.md).
    delay_weight: int = Field(default=3, ge=0, le=100)
    pickup_service_s: int = Field(default=90, ge=0, le=3600)
    dropoff_service_s: int = Field(default=120, ge=0, le=3600)
    max_ride_cold_s: int = Field(default=1800, ge=60, le=14_400)
    # Orders still being picked are planned (tentatively) when expected ready within this.
    soon_ready_s: int = Field(default=900, ge=0, le=7200)
    # Orders worth at least this much need the customer's PIN at the door.
    pin_threshold_minor: int = Field(default=5000, ge=0)
    max_attempts: int = Field(default=2, ge=1, le=5)
    # Street travel times: an OSM extract of the city (optional); straight lines otherwise.
    street_osm: Path | None = None
    street_cache_dir: Path | None = None


@lru_cache(maxsize=1)
def get_dispatch_settings() -> DispatchSettings:
    return DispatchSettings()
