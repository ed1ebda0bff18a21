"""The operators' KPI panel counts open and late orders, today's click-to-door, courier states and
the last dispatch cycle from the real rows."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.auth.models import Role
from dispatch import cycle, kpis, stop_events
from dispatch.fleet_schemas import DeliveredIn
from dispatch.models import Order
from dispatch.route_models import DispatchRun, RouteStop, StopKind
from tests.dispatch import fleet_world as fw
from tests.factories import auth_headers, create_user


def _stop(db_session: Session, oid: uuid.UUID, kind: StopKind) -> RouteStop:
    return db_session.scalars(select(RouteStop).where(RouteStop.order_id == oid, RouteStop.kind == kind)).one()


def test_kpis_count_open_late_delivered_orders_couriers_and_the_last_cycle(client, db_session) -> None:
    ops = auth_headers(create_user(db_session, role=Role.dispatcher))
    empty = client.get("/ops/kpis", headers=ops).json()
    assert (empty["open_orders"], empty["median_click_to_door_s"], empty["last_cycle_s"]) == (0, None, None)

    fleet = fw.build(db_session)
    fw.add_courier(db_session, fleet, lat=52.52, lon=13.40)
    fw.add_courier(db_session, fleet, lat=52.53, lon=13.43, cold_box=False, units=1)
    delivered, still_open = (
        fw.order(db_session, fleet, lat=52.523, lon=13.402),
        fw.order(db_session, fleet, lat=52.51, lon=13.41),
    )
    fw.pack(db_session, fleet, delivered)
    cycle.run_zone(fleet.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.3)
    pickup = _stop(db_session, delivered, StopKind.pickup)
    user = fleet.users[pickup.courier_id]  # the solver may pick either courier
    stop_events.arrive(db_session, user_id=user.id, stop_id=pickup.id)
    stop_events.picked_up(db_session, user_id=user.id, stop_id=pickup.id, bags=1)
    order = db_session.get_one(Order, delivered)
    drop = _stop(db_session, delivered, StopKind.dropoff)
    stop_events.delivered(db_session, user_id=user.id, stop_id=drop.id, proof=DeliveredIn(photo_sha256="a" * 64))
    db_session.flush()
    db_session.refresh(order)
    expected_median = (order.delivered_at - order.placed_at).total_seconds()

    body = client.get("/ops/kpis", headers=ops).json()
    assert body["open_orders"] == 1
    assert body["late_orders"] == 0
    assert body["delivered_today"] == 1
    assert body["delivered_late_today"] == 0
    assert abs(body["median_click_to_door_s"] - expected_median) < 0.01
    assert body["couriers_idle"] + body["couriers_busy"] == 2
    run = db_session.scalars(select(DispatchRun)).one()
    assert abs(body["last_cycle_s"] - (run.finished_at - run.started_at).total_seconds()) < 0.01

    # Three hours on (past every token's life, so asked of the service), the open order is late.
    later = clock.now() + timedelta(hours=3)
    with clock.use_clock(lambda: later):
        late = kpis.snapshot(db_session)
    assert (late.late_orders, late.open_orders) == (1, 1)
    assert db_session.get_one(Order, still_open).promised_to < later


def test_kpis_are_for_operators_only(client, db_session) -> None:
    staff = auth_headers(create_user(db_session, role=Role.courier))
    response = client.get("/ops/kpis", headers=staff)
    assert response.status_code == 403
    assert response.json()["code"]
