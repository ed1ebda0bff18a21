"""The simulation drives the real services: what it reports is what the database holds."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Engine, text

from simulations.kpis import seeded_part
from tests.simulations.conftest import TINY


def _scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


@pytest.mark.parametrize(
    ("policy", "scenario"),
    # vrp with 16 couriers: zones have more than one part holds, so it searches by parts, bounded
    # by work (the conftest's solver_work), not time.
    [("greedy", TINY), ("vrp", TINY.with_fleet(16))],
)
def test_same_seed_same_kpis(simulate, policy, scenario) -> None:
    first = simulate(scenario, policy=policy)
    second = simulate(scenario, policy=policy)
    assert (first.conditions()["solver_work"], first.conditions()["time_limit_s"]) == (4, None)
    assert first.kpis["delivered"] > 0
    placed = [(o.placed_s, o.lat, o.lon) for o in first.records.orders.values()]
    assert placed == [(o.placed_s, o.lat, o.lon) for o in second.records.orders.values()]
    # The whole course of events, not only its summary: every delivery at the same virtual second.
    assert [o.delivered_s for o in first.records.orders.values()] == [
        o.delivered_s for o in second.records.orders.values()
    ]
    assert seeded_part(first.kpis) == seeded_part(second.kpis)
    # The same city down to its ids (stores, SKUs and couriers break ties by id everywhere).
    assert [s.id for s in first.world.stores] == [s.id for s in second.world.stores]
    assert first.world.skus == second.world.skus
    assert list(first.records.couriers) == list(second.records.couriers)


def test_a_run_goes_through_the_real_services(simulate, committed_db) -> None:
    result = simulate(seed=5)
    records = result.records
    assert _scalar(committed_db, "SELECT count(*) FROM orders") == len(records.orders)
    delivered = sum(1 for o in records.orders.values() if o.delivered_s is not None)
    assert delivered > 0
    assert _scalar(committed_db, "SELECT count(*) FROM orders WHERE status = 'delivered'") == delivered
    # Every cycle the simulation ran left its dispatch run; every delivery its route stop.
    assert _scalar(committed_db, "SELECT count(*) FROM dispatch_runs") == len(records.cycles)
    assert (
        _scalar(committed_db, "SELECT count(*) FROM route_stops WHERE kind = 'dropoff' AND status = 'done'")
        == delivered
    )
    # Reservations and picks are in the ledger; replaying it gives every level; nothing oversold.
    assert _scalar(committed_db, "SELECT count(*) FROM stock_movements WHERE kind = 'pick'") > 0
    mismatched = """
        SELECT count(*) FROM stock_levels l LEFT JOIN (
            SELECT location_id, sku_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
            FROM stock_movements GROUP BY 1, 2) m USING (location_id, sku_id)
        WHERE coalesce(m.on_hand, 0) <> l.on_hand OR coalesce(m.reserved, 0) <> l.reserved"""
    assert _scalar(committed_db, mismatched) == 0
    assert _scalar(committed_db, "SELECT count(*) FROM stock_levels WHERE on_hand < 0 OR reserved > on_hand") == 0
    # Couriers pinged their way along: positions were stored by the ping service.
    assert _scalar(committed_db, "SELECT count(*) FROM courier_positions") == records.pings > 0
    assert records.pings_dropped == 0  # the simulated app sends only fixes the service accepts
    # The stages of click-to-door are the timestamps the services wrote: picking began (first
    # part), packed (its last part; the order's own `packed_at` moves when a courier drops it),
    # picked up, delivered.
    with committed_db.connect() as conn:
        stamped = conn.execute(
            text("""SELECT o.id, extract(epoch FROM min(f.picking_started_at)), extract(epoch FROM max(f.ready_at)),
                      extract(epoch FROM o.picked_up_at), extract(epoch FROM o.delivered_at)
                 FROM orders o JOIN order_fulfilments f ON f.order_id = o.id
                WHERE o.status = 'delivered' GROUP BY o.id""")
        ).all()
    start = result.options.scenario.start.timestamp()
    assert len(stamped) == delivered
    for oid, *stamps in stamped:
        o = records.orders[oid]
        seen = [o.picking_started_s, o.packed_s, o.picked_up_s, o.delivered_s]
        assert seen == pytest.approx([float(t) - start for t in stamps], abs=1e-3)
        # Virtual time: every order was placed on the scenario's day, not today.
    assert _scalar(committed_db, "SELECT count(*) FROM orders WHERE placed_at::date <> DATE '2026-06-03'") == 0


def test_store_outage_sends_the_closed_stores_orders_elsewhere(simulate, committed_db) -> None:
    outage = replace(TINY, name="store_outage", orders=60, outage_at_s=300)
    result = simulate(outage, seed=7)
    assert result.records.rerouted > 0
    closed = _scalar(committed_db, "SELECT count(*) FROM locations WHERE NOT active")
    assert closed == 1
    # Nothing placed after the closure went to the closed store.
    late_orders = """
        SELECT count(*) FROM order_fulfilments f JOIN orders o ON o.id = f.order_id
        JOIN locations l ON l.id = f.location_id
        WHERE NOT l.active AND o.placed_at > (SELECT max(updated_at) FROM locations WHERE NOT active)"""
    assert _scalar(committed_db, late_orders) == 0
    cancelled = _scalar(committed_db, "SELECT count(*) FROM orders WHERE cancel_reason LIKE 'store closed%'")
    assert cancelled >= result.records.rerouted  # re-placing fails only if no other store has the goods
