"""What a transaction queued for after commit can be read by a caller that runs it its own way
(the city simulation): the couriers it messages, the tasks it asked for."""

import uuid

from sqlalchemy.orm import Session

from core.celery_app import app, enqueue_after_commit, take_pending
from dispatch import after_commit


def test_couriers_messaged_lists_the_couriers_not_the_orders() -> None:
    session = Session()
    courier, other, order = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    after_commit.to_courier(session, courier, {"type": "route"})
    after_commit.to_courier(session, other, {"type": "offer"})
    after_commit.to_order(session, order, {"type": "status"})
    assert after_commit.couriers_messaged(session) == {courier, other}


def test_take_pending_removes_the_queued_tasks() -> None:
    session = Session()
    signature = app.signature("dispatch.run_cycle", args=["zone"])
    enqueue_after_commit(session, signature)
    assert take_pending(session) == [signature]
    assert take_pending(session) == []  # taken: nothing left for the after-commit hook to send
