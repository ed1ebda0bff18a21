"""The dispatch cycle through a real Celery worker and real commits: orders placed and packed,
three couriers start their shifts (each start asks for a cycle after commit) → every order is
assigned, within capacity, each on one courier; picked-up orders stay put across re-plans; a
courier taken offline mid-route hands back what is not picked up and is flagged for the rest."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import func, select

from core.db import session_scope
from dispatch import couriers as fleet_service
from dispatch import stop_events
from dispatch.fleet_models import Courier
from dispatch.models import Order, OrderStatus
from dispatch.route_models import DispatchRun, OrderAssignment, RouteStop, StopKind
from dispatch.tasks import run_cycle
from tests.dispatch import fleet_world as fw
from tests.waiting import wait_for

DOORS = [(52.525, 13.40), (52.519, 13.415), (52.512, 13.405), (52.528, 13.41), (52.515, 13.398), (52.521, 13.42)]


def _owners() -> dict[uuid.UUID, uuid.UUID]:
    with session_scope() as s:
        return dict(s.execute(select(OrderAssignment.order_id, OrderAssignment.courier_id)).all())


def _statuses(ids) -> dict[uuid.UUID, OrderStatus]:
    with session_scope() as s:
        return dict(s.execute(select(Order.id, Order.status).where(Order.id.in_(ids))).all())


def _cycle(zone_id: uuid.UUID) -> None:
    with session_scope() as s:
        before = s.scalar(select(func.count()).select_from(DispatchRun)) or 0
    run_cycle.delay(str(zone_id))
    assert wait_for(lambda: _runs() > before, timeout=60.0, interval=0.3), "condition not reached in time"


def _runs() -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(DispatchRun)) or 0)


def test_dispatch_through_celery_end_to_end(celery_worker) -> None:
    with session_scope() as s:
        fleet = fw.build(s)
        orders = []
        for lat, lon in DOORS:
            oid = fw.order(s, fleet, lat=lat, lon=lon)
            fw.pack(s, fleet, oid)
            orders.append(oid)
        couriers = [fw.add_courier(s, fleet, units=2) for _ in range(3)]
        zone_id, users = fleet.zone.id, dict(fleet.users)
    # The shift starts asked for cycles after commit; the worker runs them.
    assert wait_for(
        lambda: set(_owners()) == set(orders) and set(_statuses(orders).values()) == {OrderStatus.assigned},
        timeout=60.0,
        interval=0.3,
    ), "condition not reached in time"
    owners = _owners()
    with session_scope() as s:
        stops = s.scalars(select(RouteStop)).all()
        assert Counter(s.order_id for s in stops) == Counter(dict.fromkeys(orders, 2))
        assert all(owners[st.order_id] == st.courier_id for st in stops)
        for c in couriers:
            load = peak = 0
            for st in sorted((x for x in stops if x.courier_id == c.id), key=lambda x: x.seq):
                load += 1 if st.kind is StopKind.pickup else -1
                peak = max(peak, load)
            assert peak <= 2
    # The first courier picks up their first order; re-plans keep it on them.
    first = couriers[0].id
    with session_scope() as s:
        pickup = s.scalars(
            select(RouteStop)
            .where(RouteStop.courier_id == first, RouteStop.kind == StopKind.pickup)
            .order_by(RouteStop.seq)
        ).first()
        assert pickup is not None
        carried = pickup.order_id
        stop_events.picked_up(s, user_id=users[first].id, stop_id=pickup.id, bags=1)
    for _ in range(2):
        _cycle(zone_id)
        assert _owners()[carried] == first
    # Stability: an unchanged input changes no assignment.
    before = _owners()
    _cycle(zone_id)
    assert _owners() == before
    # The first courier goes offline mid-route.
    not_picked = [o for o, c in before.items() if c == first and o != carried]
    with session_scope() as s:
        out = fleet_service.take_offline(s, courier_id=first, reason="phone died")
    assert out.on_board == [carried]
    assert sorted(out.released) == sorted(not_picked)
    assert wait_for(
        lambda: all(_owners().get(o) not in (None, first) for o in not_picked), timeout=60.0, interval=0.3
    ), "condition not reached in time"
    assert _owners()[carried] == first
    with session_scope() as s:
        courier = s.get(Courier, first)
        assert courier is not None
        assert courier.flagged_at is not None
        assert "phone died" in (courier.flag_reason or "")
