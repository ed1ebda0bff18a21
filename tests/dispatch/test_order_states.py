"""The order state machine: legal moves only, one timestamp per state, one outbox event per move."""

from __future__ import annotations

import itertools
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.errors import DomainError
from core.events import OutboxEvent
from dispatch.models import Order, OrderStatus
from dispatch.states import CANCELLABLE, TERMINAL, TIMESTAMP, TRANSITIONS, can_move, transition, transition_many
from tests.dispatch.world import build, events_of
from tests.factories import place_order, stock

S = OrderStatus
HAPPY_PATH = [S.accepted, S.picking, S.packed, S.assigned, S.picked_up, S.delivered]


def test_the_table_is_the_documented_machine() -> None:
    chain = [S.placed, *HAPPY_PATH]
    for current, nxt in itertools.pairwise(chain):
        assert can_move(current, nxt)
    assert set(CANCELLABLE) == {S.placed, S.accepted, S.picking, S.packed, S.assigned}
    assert set(TERMINAL) == {S.cancelled, S.returned}
    assert TRANSITIONS[S.picked_up] == {S.delivered, S.failed_delivery}
    assert not can_move(S.placed, S.packed)  # no skipping
    assert not can_move(S.delivered, S.picked_up)  # no going back
    assert set(TRANSITIONS) == set(OrderStatus)


@pytest.fixture
def order(db_session) -> Order:
    w = build(db_session)
    stock(db_session, w.near, w.milk, 10)
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])
    found: Order | None = db_session.get(Order, uuid.UUID(body["id"]))
    assert found is not None
    return found


def test_each_move_stamps_its_state_and_writes_its_event(db_session, order) -> None:
    for status in HAPPY_PATH:
        transition(db_session, order, status)
        db_session.flush()  # the CHECK on state timestamps runs here
        assert order.status is status
        assert getattr(order, TIMESTAMP[status]) is not None
    stamps = [getattr(order, TIMESTAMP[s]) for s in [S.placed, *HAPPY_PATH]]
    assert stamps == sorted(stamps)
    assert events_of(db_session, str(order.id)) == [f"order.{s.value}" for s in [S.placed, *HAPPY_PATH]]


def test_an_illegal_move_is_409_invalid_transition_and_changes_nothing(db_session, order) -> None:
    with pytest.raises(DomainError) as caught:
        transition(db_session, order, S.delivered)
    assert (caught.value.status_code, caught.value.code) == (409, "invalid_transition")
    assert caught.value.extra["current"] == "placed"
    assert caught.value.extra["allowed"] == ["accepted", "cancelled"]
    assert order.status is S.placed
    assert order.delivered_at is None
    assert events_of(db_session, str(order.id)) == ["order.placed"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.sampled_from(list(OrderStatus)), max_size=12))
def test_any_sequence_of_requests_only_ever_follows_legal_edges(db_session, order, moves) -> None:
    savepoint = db_session.begin_nested()
    try:
        path = [order.status]
        for target in moves:
            before = order.status
            if not can_move(before, target):
                with pytest.raises(DomainError, match="cannot become"):
                    transition(db_session, order, target)
                assert order.status is before
                continue
            transition(db_session, order, target)
            path.append(order.status)
        db_session.flush()
        assert events_of(db_session, str(order.id)) == [f"order.{s.value}" for s in path]
    finally:
        savepoint.rollback()
        db_session.expire_all()


def _two_orders(db_session) -> list[Order]:
    w = build(db_session)
    stock(db_session, w.near, w.milk, 10)
    orders = []
    for _ in range(2):
        body = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])
        found = db_session.get(Order, uuid.UUID(body["id"]))
        assert found is not None
        orders.append(found)
    return orders


def test_a_bulk_move_stamps_each_order_and_writes_one_event_each(db_session) -> None:
    orders = _two_orders(db_session)
    details = {orders[0].id: {"courier_id": "c-1"}}
    transition_many(db_session, orders, S.accepted, details=details)
    db_session.flush()
    db_session.expire_all()  # read back what the database holds, not the session's copies
    for o in orders:
        assert o.status is S.accepted
        assert o.accepted_at is not None
        assert events_of(db_session, str(o.id)) == ["order.placed", "order.accepted"]
    payload = db_session.scalars(
        select(OutboxEvent.payload).where(
            OutboxEvent.topic == "order.accepted", OutboxEvent.payload["order_id"].astext == str(orders[0].id)
        )
    ).one()
    assert (payload["previous"], payload["status"], payload["courier_id"]) == ("placed", "accepted", "c-1")


def test_a_bulk_move_with_one_illegal_order_changes_nothing(db_session) -> None:
    orders = _two_orders(db_session)
    transition(db_session, orders[1], S.accepted)
    db_session.flush()  # a move is written by the caller's flush
    with pytest.raises(DomainError, match="cannot become"):
        transition_many(db_session, orders, S.picking)
    db_session.expire_all()
    assert [o.status for o in orders] == [S.placed, S.accepted]
    assert events_of(db_session, str(orders[0].id)) == ["order.placed"]
