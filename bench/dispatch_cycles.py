"""Consecutive dispatch cycles at simulation size, on streets: what one cycle of `o2o simulate`
costs, phase by phase.

`python -m bench.dispatch_cycles [--orders 100] [--couriers 40] [--cycles 12]`: one zone of the
dispatch benchmark's city (bench/dispatch_world.py) on a generated street network around it
(`routing.synthetic_city`, contraction hierarchy read from the stack's street cache), then cycles
through `dispatch.cycle.run_zone` as the simulation runs them: between two cycles most couriers
move a block or two, two orders leave (cancelled) and two new packed orders arrive.
Greedy first, then VRP (1 s limit) from the same start. Prints the median per phase (ms), first
cycle excluded (it prepares the graphs and fills the matrix cache).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bench.database import bench_database
from bench.dispatch_world import CENTRE, CITY_KM, populate, reset
from core import clock
from core.db import make_engine, session_scope
from core.settings import get_settings
from dispatch.cycle import run_zone
from dispatch.fleet_models import Courier
from dispatch.models import Order, OrderFulfilment, OrderStatus
from routing.street_graph import StreetGraph
from routing.synthetic_city import synthetic_city
from routing.travel import METRES_PER_DEGREE


def _churn(session: Any, zone_id: uuid.UUID, rng: random.Random, template: uuid.UUID) -> None:
    """Couriers move, two orders leave, two arrive (copies of a template order at new doors)."""
    for cid, lat, lon in session.execute(
        select(Courier.id, Courier.last_lat, Courier.last_lon).where(Courier.zone_id == zone_id)
    ).all():
        if rng.random() < 0.6:
            session.execute(
                update(Courier)
                .where(Courier.id == cid)
                .values(
                    last_lat=lat + rng.uniform(-150, 150) / METRES_PER_DEGREE,
                    last_lon=lon + rng.uniform(-200, 200) / METRES_PER_DEGREE,
                )
            )
    open_ids = sorted(
        session.scalars(select(Order.id).where(Order.status.in_((OrderStatus.packed, OrderStatus.assigned))))
    )
    for oid in rng.sample(open_ids, min(2, len(open_ids))):
        session.execute(
            update(Order).where(Order.id == oid).values(status=OrderStatus.cancelled, cancelled_at=clock.now())
        )
    base = session.get(Order, template)
    fulfilment = session.scalars(select(OrderFulfilment).where(OrderFulfilment.order_id == template)).one()
    for _ in range(2):
        order = Order(
            **{
                c.key: getattr(base, c.key)
                for c in Order.__table__.columns
                if c.key not in ("id", "status", "dropoff_geom", "created_at", "updated_at")
            }
        )
        order.status, order.assigned_at, order.payment_ref = OrderStatus.packed, None, f"churn-{uuid.uuid4().hex}"
        order.dropoff_lat = base.dropoff_lat + rng.uniform(-1500, 1500) / METRES_PER_DEGREE
        order.dropoff_lon = base.dropoff_lon + rng.uniform(-2000, 2000) / METRES_PER_DEGREE
        order.promised_to = clock.now() + timedelta(minutes=40)
        session.add(order)
        session.flush()
        copy = {
            c.key: getattr(fulfilment, c.key)
            for c in OrderFulfilment.__table__.columns
            if c.key not in ("id", "order_id")
        }
        session.add(OrderFulfilment(order_id=order.id, **copy))
    session.flush()


def run(orders: int, couriers: int, cycles: int) -> dict[str, Any]:
    cache = get_settings().home / "cache" / "streets"
    graph = StreetGraph.from_network(synthetic_city(1, CITY_KM + 6, center=CENTRE, block_m=100.0), cache_dir=cache)
    out: dict[str, Any] = {"orders": orders, "couriers": couriers, "cycles": cycles}
    with bench_database("o2o_bench_dispatch_cycles") as url:
        engine = make_engine(url, pool_size=2, max_overflow=2)

        def scope() -> Any:
            return session_scope(engine)

        with scope() as session:
            zone_id = populate(session, orders=orders, couriers=couriers, now=clock.now())
            template = session.scalars(select(Order.id).order_by(Order.id).limit(1)).one()
        for policy in ("greedy", "vrp"):
            rng = random.Random(3)
            phases: dict[str, list[float]] = {"read": [], "build": [], "solve": [], "write": [], "cycle": []}
            for k in range(cycles):
                result = run_zone(zone_id, scope=scope, policy=policy, time_limit_s=1.0, travel=graph)
                if k:
                    phases["read"].append(1000 * (result.read_s - result.build_s))
                    phases["build"].append(1000 * result.build_s)
                    phases["solve"].append(1000 * result.solve_s)
                    phases["write"].append(1000 * result.write_s)
                    phases["cycle"].append(1000 * result.cycle_s)
                with scope() as session:
                    _churn(session, zone_id, rng, template)
            out[policy] = {name: round(statistics.median(v), 1) for name, v in phases.items()}
            with scope() as session:
                reset(session, zone_id)
        engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--couriers", type=int, default=40)
    parser.add_argument("--cycles", type=int, default=12)
    args = parser.parse_args()
    print(json.dumps(run(args.orders, args.couriers, args.cycles), indent=2))


if __name__ == "__main__":
    main()
