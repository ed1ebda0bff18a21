"""The delay notice leaves through the Celery worker after commit (real worker, real Redis broker)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import dispatch.notifications_tasks  # noqa: F401  (registers the task with the in-process worker)
from core import clock
from core.db import session_scope
from dispatch import notifications
from dispatch.notifications_models import Notification, NotificationStatus
from tests import tracking_world
from tests.waiting import wait_for


def _status(order_id: object) -> NotificationStatus | None:
    with session_scope() as s:
        return s.scalar(select(Notification.status).where(Notification.order_id == order_id))


def test_a_recorded_delay_is_sent_by_the_worker_once_committed(celery_worker) -> None:
    with session_scope() as s:
        world = tracking_world.build(s, customers=1)
    order_id = world.orders[0]
    with session_scope() as s:
        assert notifications.record_delay(
            s,
            order_id=order_id,
            customer_id=world.customers[0].id,
            eta=clock.now() + timedelta(minutes=20),
            promised_to=clock.now(),
        )
        assert _status(order_id) is None  # not committed yet: nothing to send, nothing sent
    assert wait_for(lambda: _status(order_id) is NotificationStatus.sent)
