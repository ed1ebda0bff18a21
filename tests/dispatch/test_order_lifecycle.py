"""After checkout: owner-only reads, cancellation (stock back, hold voided), delivery (one capture)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from core.errors import DomainError
from core.payments import SimulatedPaymentEntry
from dispatch import orders, picking
from dispatch.models import Order, OrderStatus
from dispatch.schemas import PackIn, PickLineIn
from tests.dispatch.world import World, build, events_of, level
from tests.factories import place_order, stock
from tests.warehouse.stock_checks import assert_stock_invariants
from warehouse.models import MovementKind, StockMovement

S = OrderStatus


@pytest.fixture
def w(db_session) -> World:
    world = build(db_session)
    stock(db_session, world.near, world.milk, 10)
    stock(db_session, world.near, world.bread, 10)
    return world


def _ledger(db_session) -> list[tuple[str, int]]:
    rows = db_session.execute(
        select(SimulatedPaymentEntry.kind, SimulatedPaymentEntry.amount_minor).order_by(SimulatedPaymentEntry.id)
    )
    return [(kind.value, amount) for kind, amount in rows]


def _packed(db_session, w: World, *, picked_milk: int = 3) -> uuid.UUID:
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 3), (w.bread, 1)])
    order_id = uuid.UUID(body["id"])
    staff = {"order_id": order_id, "location_id": w.near.id, "actor_id": w.near_staff.id}
    picking.start_picking(db_session, **staff)
    picking.pick_line(db_session, line_no=1, data=PickLineIn(picked=picked_milk), **staff)
    picking.pick_line(db_session, line_no=2, data=PickLineIn(picked=1), **staff)
    picking.pack(db_session, data=PackIn(bags=1, cold_chain=False), **staff)
    return order_id


def test_customers_read_only_their_own_orders(db_session, w) -> None:
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])
    order_id = uuid.UUID(body["id"])
    mine = orders.get_for_customer(db_session, customer_id=w.customer.id, order_id=order_id)
    assert mine.model_dump(mode="json") == body
    with pytest.raises(DomainError) as caught:
        orders.get_for_customer(db_session, customer_id=w.other.id, order_id=order_id)
    assert (caught.value.status_code, caught.value.code) == (404, "order_not_found")
    assert orders.list_for_customer(db_session, customer_id=w.other.id).total == 0
    page = orders.list_for_customer(db_session, customer_id=w.customer.id)
    assert [item.id for item in page.items] == [order_id]


def test_cancel_before_picking_releases_stock_and_voids_the_hold(db_session, w) -> None:
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 4)])
    assert level(db_session, w.near, w.milk) == (10, 4)
    out = orders.cancel(db_session, order_id=uuid.UUID(body["id"]), customer_id=w.customer.id, reason="changed my mind")

    assert out.status is S.cancelled
    assert out.cancel_reason == "changed my mind"
    assert out.timestamps.cancelled_at is not None
    assert out.payment.status.value == "voided"
    assert level(db_session, w.near, w.milk) == (10, 0)
    assert _ledger(db_session) == [("authorize", body["price"]["total_minor"]), ("void", body["price"]["total_minor"])]
    assert events_of(db_session, body["id"]) == ["order.placed", "order.cancelled"]
    assert_stock_invariants(db_session)


def test_cancel_after_packing_puts_the_picked_goods_back_on_the_shelf(db_session, w) -> None:
    order_id = _packed(db_session, w)
    assert level(db_session, w.near, w.milk) == (7, 0)
    orders.cancel(db_session, order_id=order_id, customer_id=w.customer.id)

    assert level(db_session, w.near, w.milk) == (10, 0)
    assert level(db_session, w.near, w.bread) == (10, 0)
    returns = db_session.scalars(select(StockMovement).where(StockMovement.kind == MovementKind.return_)).all()
    assert sorted((m.sku_id, m.on_hand_delta) for m in returns) == sorted([(w.milk.id, 3), (w.bread.id, 1)])
    assert_stock_invariants(db_session)


def test_another_customer_cannot_cancel_and_nobody_cancels_after_pick_up(db_session, w) -> None:
    order_id = _packed(db_session, w)
    with pytest.raises(DomainError) as caught:
        orders.cancel(db_session, order_id=order_id, customer_id=w.other.id)
    assert caught.value.code == "order_not_found"
    orders.advance(db_session, order_id=order_id, to=S.assigned)
    orders.advance(db_session, order_id=order_id, to=S.picked_up)
    with pytest.raises(DomainError) as caught:
        orders.cancel(db_session, order_id=order_id, customer_id=w.customer.id)
    assert (caught.value.status_code, caught.value.code) == (409, "invalid_transition")
    assert level(db_session, w.near, w.milk) == (7, 0)


def test_cancelling_twice_is_409(db_session, w) -> None:
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])
    orders.cancel(db_session, order_id=uuid.UUID(body["id"]), customer_id=w.customer.id)
    with pytest.raises(DomainError) as caught:
        orders.cancel(db_session, order_id=uuid.UUID(body["id"]), customer_id=w.customer.id)
    assert caught.value.code == "invalid_transition"


def test_delivery_captures_what_is_owed_once(db_session, w) -> None:
    order_id = _packed(db_session, w, picked_milk=2)  # one milk short: refunded by not charging it
    for status in (S.assigned, S.picked_up, S.delivered):
        orders.advance(db_session, order_id=order_id, to=status)
    order = db_session.get(Order, order_id)
    assert order.total_minor == order.authorized_minor - 129
    assert (order.payment_status.value, order.captured_minor) == ("captured", order.total_minor)
    with pytest.raises(DomainError) as caught:
        orders.advance(db_session, order_id=order_id, to=S.delivered)
    assert caught.value.code == "invalid_transition"
    assert [kind for kind, _ in _ledger(db_session)] == ["authorize", "capture"]
    assert _ledger(db_session)[1] == ("capture", order.total_minor)


def test_no_capture_without_a_delivery(db_session, w) -> None:
    order_id = _packed(db_session, w)
    orders.advance(db_session, order_id=order_id, to=S.assigned)
    orders.advance(db_session, order_id=order_id, to=S.picked_up)
    orders.advance(db_session, order_id=order_id, to=S.failed_delivery)
    order = db_session.get(Order, order_id)
    assert (order.payment_status.value, order.captured_minor) == ("authorized", 0)
    assert [kind for kind, _ in _ledger(db_session)] == ["authorize"]


def test_advance_refuses_the_moves_that_have_their_own_use_case(db_session, w) -> None:
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])
    with pytest.raises(ValueError):
        orders.advance(db_session, order_id=uuid.UUID(body["id"]), to=S.cancelled)
