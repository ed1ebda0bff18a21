"""A picker reports a whole basket at once: the same stock, lines and events as line by line,
all or nothing, and a cost that does not grow with the basket. The pick steps around it
(start, pack, the pick list) read each row once."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from core.errors import DomainError
from dispatch import picking
from dispatch.models import Order, OrderLine
from dispatch.schemas import LinePickIn, PackIn, PickLineIn, PickTicket, SubstituteIn
from tests.dispatch.world import World, events_of, level, order_at, stocked
from tests.sql_statements import statements
from tests.warehouse.stock_checks import assert_stock_invariants
from warehouse.models import StockMovement


@pytest.fixture
def w(db_session) -> World:
    return stocked(db_session)


_order = order_at


def _at_near(w: World, order_id: uuid.UUID) -> dict[str, uuid.UUID]:
    return {"order_id": order_id, "location_id": w.near.id, "actor_id": w.near_staff.id}


def _basket(*picks: tuple[int, int]) -> list[LinePickIn]:
    return [LinePickIn(line_no=no, picked=picked) for no, picked in picks]


def _ledger(db_session, order_id: uuid.UUID) -> list[tuple[object, ...]]:
    """The order's pick/release ledger lines, without the ids that differ between two orders."""
    lines = {
        line.reservation_id: line.line_no
        for line in db_session.scalars(select(OrderLine).where(OrderLine.order_id == order_id))
    }
    rows = db_session.execute(
        select(StockMovement.ref_id, StockMovement.kind, StockMovement.on_hand_delta, StockMovement.reserved_delta)
        .where(StockMovement.ref_id.in_(list(lines)), StockMovement.kind != "reserve")
        .order_by(StockMovement.id)
    ).all()
    return sorted((lines[row.ref_id], row.kind.value, row.on_hand_delta, row.reserved_delta) for row in rows)


def _state(db_session, order_id: uuid.UUID) -> list[tuple[object, ...]]:
    rows = db_session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)).all()
    return [(line.line_no, line.state.value, line.picked_qty, line.amount_minor) for line in rows]


def fails(call: Callable[[], object], status: int, code: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert (caught.value.status_code, caught.value.code) == (status, code)
    return caught.value


def test_a_basket_picks_like_one_line_after_another(db_session, w) -> None:
    lines = ((w.milk, 3), (w.bread, 2), (w.eggs, 2), (w.ice, 1))
    by_line, by_basket = _order(db_session, w, *lines), _order(db_session, w, *lines)
    picks = ((1, 3), (2, 1), (3, 0), (4, 1))  # full, short, nothing, full
    picking.start_picking(db_session, **_at_near(w, by_line))
    for no, picked in picks:
        picking.pick_line(db_session, line_no=no, data=PickLineIn(picked=picked), **_at_near(w, by_line))
    picking.start_picking(db_session, **_at_near(w, by_basket))
    ticket = picking.pick_lines(db_session, picks=_basket(*reversed(picks)), **_at_near(w, by_basket))

    assert sorted((line.line_no, line.state.value, line.picked_qty) for line in ticket.lines) == [
        (1, "picked", 3),
        (2, "short", 1),
        (3, "short", 0),
        (4, "picked", 1),
    ]
    assert [line.aisle for line in ticket.lines] == [10, 30, 30, 90]  # still in walking order
    assert _state(db_session, by_basket) == _state(db_session, by_line)
    assert _ledger(db_session, by_basket) == _ledger(db_session, by_line)
    assert db_session.get(Order, by_basket).total_minor == db_session.get(Order, by_line).total_minor
    assert events_of(db_session, str(by_basket)) == events_of(db_session, str(by_line))
    assert level(db_session, w.near, w.milk) == (14, 0)
    assert_stock_invariants(db_session)


def test_substitutes_in_a_basket_follow_the_customers_choice(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 2), (w.eggs, 2), (w.ice, 1), substitution="contact")
    at = _at_near(w, order_id)
    picking.start_picking(db_session, **at)
    ticket = picking.pick_lines(
        db_session,
        picks=[
            LinePickIn(line_no=1, picked=0, substitute=SubstituteIn(sku_id=w.bread.id, qty=1)),
            LinePickIn(line_no=2, picked=1, substitute=SubstituteIn(sku_id=w.bread.id, qty=1)),
            LinePickIn(line_no=3, picked=1),
        ],
        **at,
    )
    subs = {line.line_no: line.substitute for line in ticket.lines}
    assert subs[3] is None
    assert [(s.sku_code, s.state.value) for s in (subs[1], subs[2]) if s] == [(w.bread.code, "proposed")] * 2
    assert level(db_session, w.near, w.bread) == (20, 2)  # both held, each on its own reservation
    assert events_of(db_session, str(order_id)).count("order.substitution_proposed") == 2
    packed = picking.pack(db_session, data=PackIn(bags=1, cold_chain=True), **at)
    assert {line.substitute.state.value for line in packed.lines if line.substitute} == {"rejected"}
    assert level(db_session, w.near, w.bread) == (20, 0)
    assert_stock_invariants(db_session)


def test_one_bad_line_refuses_the_whole_basket_and_writes_nothing(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 2), (w.bread, 1), (w.eggs, 1))
    at = _at_near(w, order_id)
    picking.start_picking(db_session, **at)
    picking.pick_line(db_session, line_no=3, data=PickLineIn(picked=1), **at)
    before = (_state(db_session, order_id), db_session.scalar(select(func.count()).select_from(StockMovement)))
    swap = SubstituteIn(sku_id=w.eggs.id, qty=1)

    fails(lambda: picking.pick_lines(db_session, picks=_basket((1, 2), (1, 1)), **at), 422, "duplicate_line")
    fails(lambda: picking.pick_lines(db_session, picks=[], **at), 422, "no_lines")
    fails(lambda: picking.pick_lines(db_session, picks=_basket((1, 2), (9, 1)), **at), 404, "line_not_found")
    fails(lambda: picking.pick_lines(db_session, picks=_basket((1, 2), (3, 1)), **at), 409, "line_already_done")
    fails(lambda: picking.pick_lines(db_session, picks=_basket((1, 2), (2, 2)), **at), 422, "picked_exceeds_qty")
    refund_only = [LinePickIn(line_no=1, picked=2), LinePickIn(line_no=2, picked=0, substitute=swap)]
    fails(lambda: picking.pick_lines(db_session, picks=refund_only, **at), 422, "substitution_not_allowed")

    assert (_state(db_session, order_id), db_session.scalar(select(func.count()).select_from(StockMovement))) == before
    assert level(db_session, w.near, w.milk) == (20, 2)


def test_substitute_rules_apply_to_every_line_of_a_basket(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 2), (w.bread, 1), substitution="allow")
    at = _at_near(w, order_id)
    picking.start_picking(db_session, **at)

    def basket(sub: SubstituteIn) -> Callable[[], object]:
        picks = [LinePickIn(line_no=1, picked=2), LinePickIn(line_no=2, picked=0, substitute=sub)]
        return lambda: picking.pick_lines(db_session, picks=picks, **at)

    fails(basket(SubstituteIn(sku_id=uuid.uuid4(), qty=1)), 422, "unknown_sku")
    fails(basket(SubstituteIn(sku_id=w.bread.id, qty=1)), 422, "substitution_not_allowed")  # the same SKU
    fails(basket(SubstituteIn(sku_id=w.eggs.id, qty=6)), 422, "quantity_over_max")
    assert level(db_session, w.near, w.milk) == (20, 2)
    ticket = basket(SubstituteIn(sku_id=w.eggs.id, qty=1))()
    assert isinstance(ticket, PickTicket)
    assert [line.state.value for line in sorted(ticket.lines, key=lambda line: line.line_no)] == ["picked", "short"]
    assert level(db_session, w.near, w.eggs) == (19, 0)  # allowed: taken at once
    assert_stock_invariants(db_session)


def test_a_basket_costs_the_same_statements_whatever_its_size(db_session, w) -> None:
    small = _order(db_session, w, (w.milk, 1))
    large = _order(db_session, w, (w.milk, 1), (w.bread, 1), (w.eggs, 1), (w.ice, 1))
    for order_id in (small, large):
        picking.start_picking(db_session, **_at_near(w, order_id))
    with statements(db_session) as one:
        picking.pick_lines(db_session, picks=_basket((1, 1)), **_at_near(w, small))
    with statements(db_session) as four:
        picking.pick_lines(db_session, picks=_basket((1, 1), (2, 1), (3, 1), (4, 1)), **_at_near(w, large))
    assert len(one) == len(four) <= 8, four
    assert_stock_invariants(db_session)


def test_start_picking_accepts_a_placed_order_on_the_way(db_session, w) -> None:
    order_id = _order(db_session, w, (w.milk, 1), (w.ice, 1))
    with statements(db_session) as sent:
        ticket = picking.start_picking(db_session, **_at_near(w, order_id))
    assert (ticket.order_status.value, ticket.fulfilment_status.value) == ("picking", "picking")
    assert [line.temperature for line in ticket.lines] == ["ambient", "frozen"]
    assert events_of(db_session, str(order_id)) == ["order.placed", "order.accepted", "order.picking"]
    # The order with its parts, the writes, the lines with their catalogue: nothing read twice.
    assert len(sent) <= 7, sent
    with statements(db_session) as sent:
        picking.pick_line(db_session, line_no=1, data=PickLineIn(picked=1), **_at_near(w, order_id))
        picking.pick_line(db_session, line_no=2, data=PickLineIn(picked=1), **_at_near(w, order_id))
        picking.pack(db_session, data=PackIn(bags=1, cold_chain=True), **_at_near(w, order_id))
    assert not [s for s in sent if "FROM skus" in s and "order_lines" not in s], "the catalogue was read again"


def test_the_pick_list_costs_the_same_statements_for_one_order_or_many(db_session, w) -> None:
    _order(db_session, w, (w.milk, 1))
    with statements(db_session) as one:
        assert len(picking.pick_list(db_session, location_id=w.near.id).items) == 1
    for _ in range(3):
        _order(db_session, w, (w.bread, 1), (w.ice, 2))
    with statements(db_session) as four:
        assert len(picking.pick_list(db_session, location_id=w.near.id).items) == 4
    assert len(one) == len(four) <= 5
