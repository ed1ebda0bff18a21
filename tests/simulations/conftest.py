"""A seeded network in the worker's test database, emptied again between runs (a simulation
commits for real, so it cannot live inside a rolled-back test transaction)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text

from dispatch.config import Policy
from o2o.models import Base
from o2o.simulate_run import seed_simulated_city
from simulations.run import Options, RunResult, run
from simulations.scenarios import SCENARIOS, Scenario

# ~15 orders in 15 minutes, 6 couriers, then 20 minutes to deliver them.
TINY = SCENARIOS["lunch_peak"].scaled(0.05, duration_s=900)


def empty(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def simulate(committed_db: Engine) -> Callable[..., RunResult]:
    """Seed a fresh small network and run a scenario on it (greedy by default; vrp searches 4 parts
    per solver process and cycle, a bound on work that keeps it deterministic too)."""
    url = committed_db.url.render_as_string(hide_password=False)

    def _run(scenario: Scenario = TINY, *, seed: int = 3, policy: Policy = "greedy", **options) -> RunResult:
        empty(committed_db)
        seed_simulated_city(committed_db, seed=seed, skus=40)  # as `o2o simulate` seeds its city
        return run(
            url,
            Options(
                scenario=scenario, seed=seed, policy=policy, solver_work=4, tail_s=1200, cycle_period_s=60, **options
            ),
        )

    return _run
