"""Pick and pack: stock follows the goods, substitutes follow the customer's choice, the order
becomes `packed` with its ready time once every location has packed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.errors import DomainError
from dispatch import picking
from dispatch import repository as dispatch_repo
from dispatch.models import Order
from dispatch.schemas import PackIn, PickLineIn, SubstituteIn
from tests.dispatch.world import World, events_of, level, order_at, stocked
from tests.factories import create_sku, place_order, stock
from tests.warehouse.stock_checks import assert_stock_invariants
from warehouse.models import MovementKind, StockMovement


@pytest.fixture
def w(db_session) -> World:
    return stocked(db_session)


_order = order_at


def _sub_state(line: Any) -> str:
    assert line.substitute is not None
    return str(line.substitute.state.value)


def _at_near(w: World, order_id: uuid.UUID) -> dict[str, Any]:
    return {"order_id": order_id, "location_id": w.near.id, "actor_id": w.near_staff.id}


def check_fails(call, status: int, code: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert (caught.value.status_code, caught.value.code) == (status, code)
    return caught.value


def test_pick_list_is_sorted_by_courier_arrival_with_lines_in_pick_path_order(db_session, w) -> None:
    first = _order(db_session, w, (w.milk, 1), (w.ice, 1), (w.bread, 1))
    second = _order(db_session, w, (w.eggs, 1))
    assert [t.order_id for t in picking.pick_list(db_session, location_id=w.near.id).items] == [first, second]
    # Dispatch (a later issue) expects the courier of the second order sooner: it moves up.
    (fulfilment,) = dispatch_repo.fulfilments_of(db_session, [second])
    fulfilment.courier_expected_at -= timedelta(minutes=30)
    db_session.flush()
    tickets = picking.pick_list(db_session, location_id=w.near.id).items
    assert [t.order_id for t in tickets] == [second, first]
    ticket = tickets[1]
    # bakery (10) → dairy (30) → frozen (90), whatever the order of the basket
    assert [line.sku_code for line in ticket.lines] == [w.bread.code, w.milk.code, w.ice.code]
    assert [line.aisle for line in ticket.lines] == [10, 30, 90]
    assert ticket.start_by < ticket.courier_expected_at
    assert picking.pick_list(db_session, location_id=w.far.id).items == []


def test_full_flow_picks_from_the_ledger_and_packs_with_a_ready_time(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 3), (w.bread, 2))
    at = _at_near(w, order_id)
    ticket = picking.start_picking(db_session, **at)
    assert ticket.order_status.value == "picking"
    picking.pick_line(db_session, line_no=1, data=PickLineIn(picked=3), **at)
    picking.pick_line(db_session, line_no=2, data=PickLineIn(picked=2), **at)
    assert level(db_session, w.near, w.milk) == (17, 0)
    packed = picking.pack(db_session, data=PackIn(bags=2, cold_chain=False), **at)

    assert packed.fulfilment_status.value == "packed"
    assert (packed.bags, packed.cold_chain) == (2, False)
    order = db_session.get(Order, order_id)
    assert order.status.value == "packed"
    assert order.packed_at == packed.ready_at
    assert events_of(db_session, str(order_id)) == ["order.placed", "order.accepted", "order.picking", "order.packed"]
    picks = db_session.scalars(select(StockMovement).where(StockMovement.kind == MovementKind.pick)).all()
    assert sorted((m.sku_id, m.on_hand_delta, m.reserved_delta) for m in picks) == sorted(
        [(w.milk.id, -3, -3), (w.bread.id, -2, -2)]
    )
    assert picking.pick_list(db_session, location_id=w.near.id).items == []
    assert_stock_invariants(db_session)


def test_a_short_line_releases_the_rest_and_the_customer_is_not_charged_for_it(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 4))
    at = _at_near(w, order_id)
    picking.start_picking(db_session, **at)
    ticket = picking.pick_line(db_session, line_no=1, data=PickLineIn(picked=1), **at)
    assert (ticket.lines[0].state.value, ticket.lines[0].picked_qty) == ("short", 1)
    assert level(db_session, w.near, w.milk) == (19, 0)
    order = db_session.get(Order, order_id)
    assert order.subtotal_minor == 129
    assert order.total_minor == 129 + order.delivery_fee_minor
    assert_stock_invariants(db_session)


def test_policy_allow_takes_the_substitute_at_once_capped_at_the_missing_value(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 2), substitution="allow")  # 2 × 129
    at = _at_near(w, order_id)
    picking.start_picking(db_session, **at)
    ticket = picking.pick_line(
        db_session, line_no=1, data=PickLineIn(picked=0, substitute=SubstituteIn(sku_id=w.bread.id, qty=1)), **at
    )
    sub = ticket.lines[0].substitute
    assert sub is not None
    assert sub.state.value == "approved"
    assert sub.amount_minor == 2 * 129  # bread costs 349, but never more than the missing milk
    assert level(db_session, w.near, w.bread) == (19, 0)
    assert level(db_session, w.near, w.milk) == (20, 0)
    order = db_session.get(Order, order_id)
    assert order.total_minor <= order.authorized_minor
    assert_stock_invariants(db_session)


def test_policy_contact_waits_for_the_customer_who_approves_or_rejects(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 1), (w.eggs, 2), substitution="contact")
    at = _at_near(w, order_id)
    picking.start_picking(db_session, **at)
    swap = SubstituteIn(sku_id=w.bread.id, qty=1)
    picking.pick_line(db_session, line_no=1, data=PickLineIn(picked=0, substitute=swap), **at)
    picking.pick_line(
        db_session, line_no=2, data=PickLineIn(picked=0, substitute=SubstituteIn(sku_id=w.ice.id, qty=1)), **at
    )
    assert level(db_session, w.near, w.bread) == (20, 1)  # held, not yet picked
    assert "order.substitution_proposed" in events_of(db_session, str(order_id))

    approved = picking.decide_substitution(
        db_session, customer_id=w.customer.id, order_id=order_id, line_no=1, approve=True
    )
    assert _sub_state(approved.lines[0]) == "approved"
    assert level(db_session, w.near, w.bread) == (19, 0)
    rejected = picking.decide_substitution(
        db_session, customer_id=w.customer.id, order_id=order_id, line_no=2, approve=False
    )
    assert _sub_state(rejected.lines[1]) == "rejected"
    assert rejected.lines[1].amount_minor == 0
    assert level(db_session, w.near, w.ice) == (20, 0)
    check_fails(
        lambda: picking.decide_substitution(
            db_session, customer_id=w.customer.id, order_id=order_id, line_no=2, approve=True
        ),
        409,
        "no_substitution_pending",
    )
    check_fails(
        lambda: picking.decide_substitution(
            db_session, customer_id=w.other.id, order_id=order_id, line_no=1, approve=True
        ),
        404,
        "order_not_found",
    )
    assert_stock_invariants(db_session)


def test_an_unanswered_substitute_is_rejected_at_packing(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 1), (w.bread, 1), substitution="contact")
    at = _at_near(w, order_id)
    picking.start_picking(db_session, **at)
    picking.pick_line(
        db_session, line_no=1, data=PickLineIn(picked=0, substitute=SubstituteIn(sku_id=w.eggs.id, qty=1)), **at
    )
    picking.pick_line(db_session, line_no=2, data=PickLineIn(picked=1), **at)
    ticket = picking.pack(db_session, data=PackIn(bags=1, cold_chain=False), **at)
    milk = next(line for line in ticket.lines if line.line_no == 1)
    assert _sub_state(milk) == "rejected"
    assert level(db_session, w.near, w.eggs) == (20, 0)
    assert db_session.get(Order, order_id).status.value == "packed"


def test_policy_refund_refuses_a_substitute(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 1))
    at = _at_near(w, order_id)
    picking.start_picking(db_session, **at)
    swap = PickLineIn(picked=0, substitute=SubstituteIn(sku_id=w.bread.id, qty=1))
    check_fails(lambda: picking.pick_line(db_session, line_no=1, data=swap, **at), 422, "substitution_not_allowed")


def test_the_rules_of_picking(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 2), (w.ice, 1))
    at = _at_near(w, order_id)
    check_fails(
        lambda: picking.pick_line(db_session, line_no=1, data=PickLineIn(picked=2), **at), 409, "picking_not_started"
    )
    check_fails(
        lambda: picking.pack(db_session, data=PackIn(bags=1, cold_chain=True), **at), 409, "picking_not_started"
    )
    picking.start_picking(db_session, **at)
    check_fails(lambda: picking.start_picking(db_session, **at), 409, "invalid_transition")
    check_fails(
        lambda: picking.pick_line(db_session, line_no=1, data=PickLineIn(picked=3), **at), 422, "picked_exceeds_qty"
    )
    check_fails(
        lambda: picking.pick_line(db_session, line_no=9, data=PickLineIn(picked=1), **at), 404, "line_not_found"
    )
    picking.pick_line(db_session, line_no=1, data=PickLineIn(picked=2), **at)
    check_fails(
        lambda: picking.pick_line(db_session, line_no=1, data=PickLineIn(picked=2), **at), 409, "line_already_done"
    )
    check_fails(lambda: picking.pack(db_session, data=PackIn(bags=1, cold_chain=True), **at), 409, "lines_open")
    picking.pick_line(db_session, line_no=2, data=PickLineIn(picked=1), **at)
    check_fails(
        lambda: picking.pack(db_session, data=PackIn(bags=1, cold_chain=False), **at), 422, "cold_chain_required"
    )
    picking.pack(db_session, data=PackIn(bags=1, cold_chain=True), **at)
    check_fails(lambda: picking.pack(db_session, data=PackIn(bags=1, cold_chain=True), **at), 409, "invalid_transition")


def test_staff_of_another_location_find_no_such_order(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 1))
    elsewhere = {"order_id": order_id, "location_id": w.far.id, "actor_id": w.far_staff.id}
    check_fails(lambda: picking.start_picking(db_session, **elsewhere), 404, "order_not_found")
    check_fails(lambda: picking.accept(db_session, **elsewhere), 404, "order_not_found")


def test_a_split_order_is_packed_only_when_both_locations_have_packed(db_session, w) -> None:
    juice = create_sku(db_session)
    stock(db_session, w.far, juice, 25)  # the far store has no milk, the near one no juice
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 1), (juice, 12)])
    assert body["plan"] == "split"
    order_id = uuid.UUID(body["id"])
    near, far = _at_near(w, order_id), {"order_id": order_id, "location_id": w.far.id, "actor_id": w.far_staff.id}

    ticket = picking.start_picking(db_session, **near)
    assert ticket.split is True
    assert [line.line_no for line in ticket.lines] == [1]
    check_fails(
        lambda: picking.pick_line(db_session, line_no=2, data=PickLineIn(picked=12), **near), 404, "line_not_found"
    )
    picking.pick_line(db_session, line_no=1, data=PickLineIn(picked=1), **near)
    picking.pack(db_session, data=PackIn(bags=1, cold_chain=False), **near)
    assert db_session.get(Order, order_id).status.value == "picking"

    picking.start_picking(db_session, **far)
    picking.pick_line(db_session, line_no=2, data=PickLineIn(picked=12), **far)
    last = picking.pack(db_session, data=PackIn(bags=3, cold_chain=False), **far)
    order = db_session.get(Order, order_id)
    assert order.status.value == "packed"
    assert order.packed_at == last.ready_at
    assert level(db_session, w.far, juice) == (13, 0)
    assert_stock_invariants(db_session)


def test_nothing_picked_at_all_cancels_the_order_at_packing_and_voids_the_hold(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 2))
    at = _at_near(w, order_id)
    picking.start_picking(db_session, **at)
    picking.pick_line(db_session, line_no=1, data=PickLineIn(picked=0), **at)
    picking.pack(db_session, data=PackIn(bags=1, cold_chain=False), **at)
    order = db_session.get(Order, order_id)
    assert (order.status.value, order.payment_status.value) == ("cancelled", "voided")
    assert level(db_session, w.near, w.milk) == (20, 0)
