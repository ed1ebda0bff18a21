"""Migration 0009 clears what cancellations left behind before the cancel service took an order
off its courier: the assignment and the open stops of a cancelled order, and nothing else."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from sqlalchemy import select, text, update

from dispatch import cycle
from dispatch.models import Order, OrderStatus
from dispatch.route_models import OrderAssignment, RouteStop
from tests.dispatch import fleet_world as fw

MIGRATION = Path(__file__).parents[2] / "migrations/versions/20261206_0009_cancelled_orders_leave_their_couriers.py"


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migration_0009", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_cancelled_orders_leftover_assignment_and_open_stops_go_and_live_orders_stay(db_session) -> None:
    fleet = fw.build(db_session)
    fw.add_courier(db_session, fleet)
    stale, live = (fw.order(db_session, fleet, lat=52.525, lon=13.40 + i / 200) for i in range(2))
    for oid in (stale, live):
        fw.pack(db_session, fleet, oid)
    cycle.run_zone(fleet.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.5, policy="greedy")
    assert {a.order_id for a in db_session.scalars(select(OrderAssignment))} == {stale, live}
    # What a cancellation did before the fix: the status changed, the plan stayed.
    db_session.execute(
        update(Order).where(Order.id == stale).values(status=OrderStatus.cancelled, cancelled_at=Order.placed_at)
    )

    for statement in _migration().CLEAR_CANCELLED:
        db_session.execute(text(statement))

    assert {a.order_id for a in db_session.scalars(select(OrderAssignment))} == {live}
    stops = db_session.scalars(select(RouteStop)).all()
    assert {s.order_id for s in stops} == {live}
    assert {s.kind.value for s in stops} == {"pickup", "dropoff"}
