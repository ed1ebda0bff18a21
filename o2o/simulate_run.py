"""Where a simulation runs: a fresh database of its own, migrated and seeded like `o2o seed` does
(so runs are reproducible and never touch the demo's data), or the demo's database for `--live`;
and the city's street graph the couriers ride on and the dispatcher plans with."""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import redis
from psycopg import sql
from sqlalchemy import Engine, make_url

from bench.database import bench_database, libpq_url
from core import clock
from core.db import engine_for, session_scope
from core.redis import url_with_db
from core.settings import get_settings
from dispatch.config import SIMULATED_SOLVER_WORK, Policy
from o2o import seed as seeding
from o2o.seed_city import city_for
from routing.street_graph import StreetGraph
from routing.synthetic_city import synthetic_city
from routing.types import PROFILES
from simulations.ids import seeded_uuids
from simulations.run import Options, Progress, RunResult, run
from simulations.scenarios import Scenario

BLOCK_M = 100.0
SIM_PREFIX = "o2o_sim_"  # + the process id: the databases of one `o2o simulate`
# Redis databases a run may claim: 0 is the demo's, 1-7 the test workers' (tests/conftest.py).
SIM_REDIS_DBS = range(8, 16)
REDIS_CLAIM = "o2o:simulation:redis-db:{db}"  # in database 0, holding the claiming process id


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


@dataclass(frozen=True, slots=True)
class Request:
    """What `o2o simulate` asked for."""

    scenario: Scenario
    seed: int
    policies: list[Policy]
    osm: Path | None = None
    live: bool = False
    speed: float = 30.0
    time_limit_s: float | None = None
    solver_work: int = SIMULATED_SOLVER_WORK
    cycle_period_s: float = 30.0
    tag: str | None = None
    tail_s: float = 1800.0


def runs(request: Request, progress: Callable[[str], Callable[[Progress], None]]) -> list[RunResult]:
    """One run per policy. Each gets its own copy of one freshly seeded city (so the policies meet
    exactly the same network and stock); `--live` runs once in the demo's database instead.
    `progress(title)` gives the display for one run."""
    graph = street_graph(request.osm, seed=request.seed)
    for profile in PROFILES:
        # Built (or read from the cache) now, not inside the first dispatch cycle that needs it.
        graph.prepare(profile)
    if request.live:
        return [_live(request, graph, progress(f"live {request.scenario.name}"))]
    results = []
    name = f"{SIM_PREFIX}{os.getpid()}"
    with bench_database(f"{name}_city") as city_url:
        _drop_orphans(city_url)
        _throwaway(city_url)
        engine = engine_for(city_url)
        try:
            seed_simulated_city(engine, seed=request.seed, osm=request.osm)
        finally:
            engine.dispose()  # a template database must have no connections
        for policy in request.policies:
            options = _options(request, policy)
            with _copy_of(city_url, f"{name}_{policy}") as url, redis_of_its_own():
                title = f"{request.scenario.name} seed {request.seed} {policy}"
                results.append(run(url, options, graph=graph, on_progress=progress(title)))
    return results


def seed_simulated_city(
    engine: Engine, *, seed: int, osm: Path | None = None, skus: int = seeding.DEFAULT_SKUS
) -> None:
    """Seed the simulated city into the (empty) database of `engine` and commit, with ids drawn
    from the seed: two runs of one seed must meet the same stores, SKUs and couriers, ids and all."""
    with seeded_uuids(seed, "city"), session_scope(engine) as session:
        seeding.seed(session, seed=seed, center=None, osm=osm, skus=skus)


def _options(request: Request, policy: Policy) -> Options:
    live = request.live
    return Options(
        scenario=request.scenario,
        seed=request.seed,
        policy=policy,
        solver_work=request.solver_work,
        time_limit_s=request.time_limit_s,
        cycle_period_s=request.cycle_period_s,
        tail_s=request.tail_s,
        live_speed=request.speed if live else None,
        # Live: pings every few real seconds, so that maps move smoothly.
        ping_chunk_s=max(5.0, math.ceil(request.speed / 3)) if live else 120.0,
        ping_every_s=5.0 if live else 15.0,
        tag=request.tag or (uuid.uuid4().hex[:6] if live else f"s{request.seed}"),
        password=seeding.DEMO_PASSWORD if live else None,
    )


def _live(request: Request, graph: StreetGraph, progress: Callable[[Progress], None]) -> RunResult:
    scenario = request.scenario.starting(clock.now().replace(second=0, microsecond=0))
    options = replace(_options(request, request.policies[0]), scenario=scenario)
    settings = get_settings()
    if settings.uses_private_stack:
        from o2o import stack

        stack.up(settings.stack, databases=(settings.database_name,))
    return run(settings.effective_database_url(), options, graph=graph, on_progress=progress)


class NoRedisDatabase(RuntimeError):
    """Every Redis database set aside for simulations is in use by a running one."""


@contextmanager
def redis_of_its_own() -> Iterator[str]:
    """Point this process at a Redis database of the run's own (emptied before and after), and
    yield its URL. Runs of the same seed draw the same ids, so two of them at once on one database
    shared their zones' dispatch locks: a zone's cycle was skipped whenever the other run held
    its lock (measured: 330 instead of 426 street-matrix queries in 40 minutes, other KPIs)."""
    base = get_settings().effective_redis_url()
    admin = redis.Redis.from_url(url_with_db(base, 0), decode_responses=True)
    db = _claim_redis_db(admin)
    url = url_with_db(base, db)
    own = redis.Redis.from_url(url)
    own.flushdb()
    previous = os.environ.get("O2O_REDIS_URL")
    os.environ["O2O_REDIS_URL"] = url
    get_settings.cache_clear()
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop("O2O_REDIS_URL", None)
        else:
            os.environ["O2O_REDIS_URL"] = previous
        get_settings.cache_clear()
        own.flushdb()
        own.close()
        admin.delete(REDIS_CLAIM.format(db=db))
        admin.close()


def _claim_redis_db(admin: redis.Redis) -> int:
    """The first free database of SIM_REDIS_DBS, claimed atomically; a claim whose process is
    gone (killed before it could let go) is taken over."""
    me = str(os.getpid())
    for db in SIM_REDIS_DBS:
        key = REDIS_CLAIM.format(db=db)
        if admin.set(key, me, nx=True):
            return db
        with admin.pipeline() as pipe:
            try:
                pipe.watch(key)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
                owner = pipe.get(key)
                if owner is not None and owner.isdigit() and _alive(int(owner)):
                    continue
                pipe.multi()
                pipe.set(key, me)
                pipe.execute()
                return db
            except redis.WatchError:
                continue  # someone else took it over first
    raise NoRedisDatabase(
        f"Redis databases {SIM_REDIS_DBS.start}-{SIM_REDIS_DBS.stop - 1} are all held by running simulations"
    )


@contextmanager
def _copy_of(template_url: str, name: str) -> Iterator[str]:
    """A database cloned from `template_url` (PostgreSQL copies the files: far faster than seeding
    again), dropped afterwards."""
    admin = _admin(template_url)
    template = make_url(template_url).database or ""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    url = make_url(template_url).set(database=name).render_as_string(hide_password=False)
    _throwaway(url)  # a database's settings are not copied with its template
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _admin(url: str) -> str:
    return libpq_url(make_url(url).set(database="postgres").render_as_string(hide_password=False))


def _throwaway(url: str) -> None:
    """A run's database is dropped when the run ends, so waiting for each commit to reach the
    disk buys nothing: without it a run's thousands of small transactions (every step commits)
    no longer queue behind WAL flushes. Crash safety is unchanged (no corruption, only the last
    commits may be lost, and a crashed run is discarded anyway)."""
    name = make_url(url).database or ""
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))


def _drop_orphans(url: str) -> None:
    """Drop the databases of earlier runs whose process is gone (killed before it could clean up)."""
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        names = [row[0] for row in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'o2o\\_sim\\_%'")]
        for name in names:
            pid = name[len(SIM_PREFIX) :].split("_", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
