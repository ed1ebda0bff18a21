"""`o2o bench checkout`: checkouts/s and p50/p99 through the real HTTP API, beside GET /healthz.

A database of its own is created on the project's server, migrated and seeded with the demo city
(`o2o.seed`: a central warehouse, DCs, 10–20 stores and dark stores, a few hundred SKUs with
opening stock); `--customers` accounts get tokens. A real uvicorn with `--workers` processes
serves the API. Every checkout is a new order: a random customer, a random door inside the
network's zones, 1–8 random lines of 1–3 units, its own Idempotency-Key. /healthz is measured
first, with the same client and connections, as the ceiling of the same machine in the same run.

Afterwards a ledger audit: the stock ledger is replayed and compared with the levels, and every
open order line must be covered by an active reservation: `oversold_units` counts any unit held
beyond what is on hand, any negative stock, and any ordered unit not held.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from sqlalchemy import select, text

from bench.checkout_load import Measured, Request, run_python, run_wrk, wrk_available
from bench.database import bench_database
from core.auth.models import Role, User
from core.auth.passwords import hash_password
from core.auth.tokens import Principal, issue_token
from core.db import make_engine, session_scope
from core.geo import GeoPoint
from core.settings import PROJECT_ROOT, get_settings
from o2o.seed import seed as seed_city
from stores import service as stores
from warehouse.models import Sku

BENCH_DB = "o2o_bench_checkout"
BENCH_REDIS_DB = 15  # not the demo's queue: replenishment tasks for bench stores stay apart
GOALS = {"rps": 300.0, "p99_ms": 150.0, "ratio_to_healthz": 0.06}
MAX_LINES = 8


@dataclass(frozen=True, slots=True)
class City:
    tokens: list[str]
    doors: list[GeoPoint]
    skus: list[tuple[str, int]]  # (id, max per order)
    locations: int
    seed_s: float


def prepare(url: str, *, seed: int, skus: int, customers: int, rng: random.Random) -> City:
    started = time.perf_counter()
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with session_scope(engine) as session:
            report = seed_city(session, seed=seed, center=None, osm=None, skus=skus)
            password = hash_password(uuid.uuid4().hex)  # nobody logs in: tokens are issued below
            people = [
                User(email=f"bench{n}@bench.o2o.example", password_hash=password, role=Role.customer)
                for n in range(customers)
            ]
            session.add_all(people)
            session.flush()
            settings = get_settings()
            tokens = [issue_token(Principal(p.id, Role.customer), settings, ttl_s=6 * 3600) for p in people]
            south, west, north, east = report.bbox
            doors: list[GeoPoint] = []
            for _ in range(2000):
                point = GeoPoint(lat=rng.uniform(south, north), lon=rng.uniform(west, east))
                if stores.candidates_covering(session, point, limit=1):
                    doors.append(point)
                if len(doors) >= 300:
                    break
            catalogue = [(str(i), m) for i, m in session.execute(select(Sku.id, Sku.max_order_qty).where(Sku.active))]
            locations = sum(report.locations.values())
    finally:
        engine.dispose()
    if not doors:
        raise RuntimeError("no point of the seeded city lies inside a service zone")
    return City(tokens, doors, catalogue, locations, round(time.perf_counter() - started, 2))


def checkout_requests(city: City, count: int, rng: random.Random) -> list[Request]:
    requests = []
    for n in range(count):
        door = rng.choice(city.doors)
        picked = rng.sample(city.skus, k=rng.randint(1, min(MAX_LINES, len(city.skus))))
        body = {
            "dropoff": {"lat": door.lat, "lon": door.lon},
            "address": f"Bench street {n % 200 + 1}",
            "lines": [{"sku": sku, "qty": rng.randint(1, min(3, most))} for sku, most in picked],
            "substitution": rng.choice(["allow", "contact", "refund"]),
        }
        headers = {
            "Authorization": f"Bearer {rng.choice(city.tokens)}",
            "Idempotency-Key": f"bench-{n}-{uuid.uuid4().hex[:12]}",
            "Content-Type": "application/json",
        }
        requests.append(Request("POST", "/customer/orders", headers, json.dumps(body, separators=(",", ":"))))
    return requests


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_server(url: str, *, workers: int, log: Path) -> Iterator[str]:
    settings = get_settings()
    redis_url = (
        settings.stack.redis_url(BENCH_REDIS_DB) if settings.uses_private_stack else settings.effective_redis_url()
    )
    port = _free_port()
    env = {**os.environ, "O2O_DATABASE_URL": url, "O2O_REDIS_URL": redis_url, "O2O_LOG_LEVEL": "WARNING"}
    args = [sys.executable, "-m", "uvicorn", "o2o.app:create_app", "--factory", "--host", "127.0.0.1"]
    args += ["--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    with log.open("w") as out:
        process = subprocess.Popen(args, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not become ready; see {log}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_AUDIT = text(
    """
    WITH replay AS (
        SELECT location_id, sku_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
          FROM stock_movements GROUP BY location_id, sku_id
    ), demand AS (
        SELECT f.location_id, l.sku_id, sum(l.qty) AS qty
          FROM order_lines l JOIN order_fulfilments f ON f.id = l.fulfilment_id JOIN orders o ON o.id = l.order_id
         WHERE o.status <> 'cancelled' AND l.state = 'open' GROUP BY f.location_id, l.sku_id
    ), held AS (
        SELECT r.location_id, r.sku_id, sum(r.qty) AS qty
          FROM stock_reservations r JOIN orders o ON o.id = r.holder_id
         WHERE r.status = 'active' GROUP BY r.location_id, r.sku_id
    )
    SELECT (SELECT coalesce(sum(greatest(reserved - on_hand, 0) + greatest(-on_hand, 0)), 0) FROM replay) AS over_held,
           (SELECT count(*) FROM replay r FULL JOIN stock_levels l USING (location_id, sku_id)
             WHERE l.on_hand IS DISTINCT FROM r.on_hand OR l.reserved IS DISTINCT FROM r.reserved) AS ledger_mismatches,
           (SELECT coalesce(sum(greatest(d.qty - coalesce(h.qty, 0), 0)), 0)
              FROM demand d LEFT JOIN held h USING (location_id, sku_id)) AS unheld_demand,
           (SELECT count(*) FROM orders) AS orders,
           (SELECT count(*) FROM orders WHERE plan = 'split') AS split_orders,
           (SELECT count(*) FROM orders WHERE plan = 'later_window') AS later_window_orders
    """
)


def audit(url: str) -> dict[str, int]:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            row = conn.execute(_AUDIT).one()
    finally:
        engine.dispose()
    return {key: int(value) for key, value in row._mapping.items()}


def run(
    *,
    duration: float = 10.0,
    warmup: float = 2.0,
    connections: int = 32,
    workers: int = 2,
    customers: int = 200,
    skus: int = 300,
    seed: int = 7,
    client: str = "auto",
    database: str = BENCH_DB,
    keep_database: bool = False,
) -> dict[str, Any]:
    use_wrk = client == "wrk" or (client == "auto" and wrk_available())
    rng = random.Random(seed)
    # Enough distinct orders that no measured request replays a key, even at several hundred/s.
    count = int((duration + warmup) * 1000) + 500
    with bench_database(database, keep=keep_database) as url:
        city = prepare(url, seed=seed, skus=skus, customers=customers, rng=rng)
        orders = checkout_requests(city, count, rng)
        health = [Request("GET", "/healthz", {})] * (count * 10 if not use_wrk else 1)
        log = get_settings().home / "bench-checkout-uvicorn.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with api_server(url, workers=workers, log=log) as base:

            def measure(requests: list[Request]) -> Measured:
                if use_wrk:
                    return run_wrk(base, requests, connections=connections, duration=duration, warmup=warmup)
                return run_python(base, requests, connections=connections, duration=duration, warmup=warmup)

            healthz = measure(health)
            checkout = measure(orders)
        books = audit(url)
    created = checkout.statuses.get(201, 0)
    oversold = books["over_held"] + books["unheld_demand"]
    rps = round(created / duration, 1)
    ratio = round(rps / healthz.rps, 4) if healthz.rps else None
    result: dict[str, Any] = {
        "checkout": {
            "rps": rps,
            "p50_ms": checkout.p50_ms,
            "p99_ms": checkout.p99_ms,
            "errors_5xx": checkout.errors_5xx,
            "orders_created": books["orders"],
            "oversold_units": oversold,
            "requests_per_s": checkout.rps,
            "statuses": checkout.as_dict()["statuses"],
            "transport_errors": checkout.errors,
        },
        "healthz": {"rps": healthz.rps, "p50_ms": healthz.p50_ms, "p99_ms": healthz.p99_ms},
        "ratio_to_healthz": ratio,
        "audit": books,
    }
    result["goals"] = {
        "rps": result["checkout"]["rps"] >= GOALS["rps"],
        "p99_ms": checkout.p99_ms is not None and checkout.p99_ms <= GOALS["p99_ms"],
        "ratio_to_healthz": ratio is not None and ratio >= GOALS["ratio_to_healthz"],
        "no_5xx": checkout.errors_5xx == 0 and healthz.errors_5xx == 0,
        "no_oversell": oversold == 0 and books["ledger_mismatches"] == 0,
    }
    result["conditions"] = {
        "client": "wrk" if use_wrk else "python threads",
        "connections": connections,
        "uvicorn_workers": workers,
        "duration_s": duration,
        "warmup_s": warmup,
        "customers": customers,
        "skus": len(city.skus),
        "locations": city.locations,
        "doors": len(city.doors),
        "seed": seed,
        "seed_city_s": city.seed_s,
        "cpus": os.cpu_count(),
        "note": "client, server and PostgreSQL share this machine's CPUs",
    }
    return result


def command(
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
    duration: Annotated[float, typer.Option(min=0.5, max=300, help="measured seconds per run")] = 10.0,
    warmup: Annotated[float, typer.Option(min=0, max=60, help="unmeasured seconds before each run")] = 2.0,
    connections: Annotated[int, typer.Option(min=1, max=256, help="concurrent connections")] = 32,
    workers: Annotated[int, typer.Option(min=1, max=16, help="uvicorn worker processes")] = 2,
    customers: Annotated[int, typer.Option(min=1, max=10_000, help="customer accounts")] = 200,
    skus: Annotated[int, typer.Option(min=1, max=1000, help="SKUs in the seeded catalogue")] = 300,
    seed: Annotated[int, typer.Option(min=0, help="city and basket seed")] = 7,
    client: Annotated[str, typer.Option(help="auto (wrk if installed), wrk or python")] = "auto",
    database: Annotated[str, typer.Option(help="benchmark database, created and dropped")] = BENCH_DB,
    keep_database: Annotated[bool, typer.Option(help="keep the benchmark database afterwards")] = False,
) -> None:
    """Checkouts/s and p50/p99 through the HTTP API (uvicorn workers, seeded city) beside /healthz."""
    if client not in ("auto", "wrk", "python"):
        raise typer.BadParameter("auto, wrk or python", param_hint="--client")
    console = Console(width=None if sys.stdout.isatty() else 160)
    result = run(
        duration=duration,
        warmup=warmup,
        connections=connections,
        workers=workers,
        customers=customers,
        skus=skus,
        seed=seed,
        client=client,
        database=database,
        keep_database=keep_database,
    )
    c, h = result["checkout"], result["healthz"]
    console.print(
        f"checkout: {c['rps']:,.1f} orders/s, p50 {c['p50_ms']} ms, p99 {c['p99_ms']} ms, 5xx {c['errors_5xx']},"
        f" orders {c['orders_created']}, oversold units {c['oversold_units']}"
    )
    console.print(f"healthz:  {h['rps']:,.1f} req/s, p99 {h['p99_ms']} ms  → ratio {result['ratio_to_healthz']}")
    console.print(f"goals: {result['goals']}  ({result['conditions']['client']})")
    if json_out:
        json_out.write_text(json.dumps(result, indent=2))
        console.print(f"wrote {json_out}")
