"""The outbox within one transaction: events are written by the unit of work's next flush, all
of them in one INSERT, and their ids follow the order in which they were emitted — whether they
came from `events.emit`, a state move, a bulk move or the checkout's own pipelined INSERT."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import events
from core.events import OutboxEvent
from dispatch.models import Order, OrderStatus
from dispatch.states import transition, transition_many
from tests.dispatch.world import build
from tests.factories import place_order, stock
from tests.sql_statements import statements

S = OrderStatus


def _topics_after(session: Session, last_id: int) -> list[str]:
    return list(session.scalars(select(OutboxEvent.topic).where(OutboxEvent.id > last_id).order_by(OutboxEvent.id)))


def _last_id(session: Session) -> int:
    session.flush()
    return int(session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1)) or 0)


def _orders(session: Session, n: int) -> list[Order]:
    w = build(session)
    stock(session, w.near, w.milk, 10)
    found = []
    for _ in range(n):
        body = place_order(session, customer=w.customer, lines=[(w.milk, 1)])
        order = session.get(Order, uuid.UUID(body["id"]))
        assert order is not None
        found.append(order)
    return found


def test_emit_writes_nothing_until_the_flush_which_inserts_every_event_in_one_statement(db_session) -> None:
    before = _last_id(db_session)
    with statements(db_session) as seen:
        emitted = [events.emit(db_session, f"test.e{i}", {"i": i}) for i in range(3)]
        assert seen == []
        assert all(e.id is None for e in emitted)
        db_session.flush()
    assert [s for s in seen if "outbox_events" in s] == seen
    assert len(seen) == 1
    ids = [e.id for e in emitted]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    assert _topics_after(db_session, before) == ["test.e0", "test.e1", "test.e2"]


def test_ids_follow_the_order_of_emission_across_moves_bulk_moves_and_the_checkout(db_session) -> None:
    first, second, third = _orders(db_session, 3)
    before = _last_id(db_session)
    events.emit(db_session, "test.start", {})
    transition(db_session, first, S.accepted)
    events.emit(db_session, "test.after_move", {})
    transition_many(db_session, [second, third], S.accepted)  # its UPDATE flushes what came before
    events.emit(db_session, "test.after_bulk", {})
    w = build(db_session)
    stock(db_session, w.near, w.milk, 5)
    marker = _last_id(db_session)
    events.emit(db_session, "test.before_checkout", {})
    place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])  # its event rides the pipelined INSERT
    events.emit(db_session, "test.end", {})
    db_session.flush()
    topics = _topics_after(db_session, before)
    assert topics[:6] == [
        "test.start",
        "order.accepted",
        "test.after_move",
        "order.accepted",
        "order.accepted",
        "test.after_bulk",
    ]
    assert _topics_after(db_session, marker) == ["test.before_checkout", "order.placed", "test.end"]


def test_a_bulk_move_leaves_its_events_to_the_next_flush_with_the_others(db_session) -> None:
    orders = _orders(db_session, 2)
    before = _last_id(db_session)
    with statements(db_session) as seen:
        transition_many(db_session, orders, S.accepted)
        events.emit(db_session, "test.after", {})
        db_session.flush()
    inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1
    assert "outbox_events" in inserts[0]
    assert _topics_after(db_session, before) == ["order.accepted", "order.accepted", "test.after"]
