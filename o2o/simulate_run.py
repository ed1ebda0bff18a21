"""Where a simulation runs: a fresh database of its own, migrated and seeded like `o2o seed` does
(so runs are reproducible and never touch the demo's data), or the demo's database for `--live`;
and the city's street graph the couriers ride on and the dispatcher plans with."""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench.database import bench_database
from core import clock
from core.db import engine_for, session_scope
from core.settings import get_settings
from dispatch.config import Policy
from o2o import seed as seeding
from o2o.seed_city import city_for
from routing.street_graph import StreetGraph
from routing.synthetic_city import synthetic_city
from simulations.run import Options, Progress, RunResult, run
from simulations.scenarios import Scenario

BLOCK_M = 100.0


def street_graph(osm: Path | None, *, seed: int) -> StreetGraph:
    """The streets of the seeded city: the OSM extract's, or a generated city over the same area."""
    cache = get_settings().home / "cache" / "streets"
    if osm is not None:
        return StreetGraph.from_osm(osm, cache_dir=cache)
    city = city_for(None, None)
    # A little wider than the stores' box, so that zones reaching past it still have streets.
    size_km = 2 * max(city.half_width_m, city.half_height_m) / 1000 + 2
    network = synthetic_city(seed, size_km, center=(city.center.lat, city.center.lon), block_m=BLOCK_M)
    return StreetGraph.from_network(network, cache_dir=cache)


def one(
    scenario: Scenario,
    *,
    seed: int,
    policy: Policy,
    osm: Path | None,
    live: bool,
    speed: float,
    time_limit_s: float,
    cycle_period_s: float = 30.0,
    tag: str | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> RunResult:
    options = Options(
        scenario=scenario,
        seed=seed,
        policy=policy,
        time_limit_s=time_limit_s,
        cycle_period_s=cycle_period_s,
        live_speed=speed if live else None,
        ping_chunk_s=max(5.0, math.ceil(speed / 3)) if live else 120.0,
        ping_every_s=5.0 if live else 15.0,
        tag=tag or (uuid.uuid4().hex[:6] if live else f"s{seed}"),
        password=seeding.DEMO_PASSWORD if live else None,
    )
    graph = street_graph(osm, seed=seed)
    if live:
        scenario = scenario.starting(clock.now().replace(second=0, microsecond=0))
        options = replace(options, scenario=scenario)
        settings = get_settings()
        if settings.uses_private_stack:
            from o2o import stack

            stack.up(settings.stack, databases=(settings.database_name,))
        return run(settings.effective_database_url(), options, graph=graph, on_progress=progress)
    with bench_database(f"o2o_sim_{os.getpid()}_{policy}") as url:
        with session_scope(engine_for(url)) as session:
            seeding.seed(session, seed=seed, center=None, osm=osm)
        try:
            return run(url, options, graph=graph, on_progress=progress)
        finally:
            engine_for(url).dispose()
