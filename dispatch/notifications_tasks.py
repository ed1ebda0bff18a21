"""Celery wrapper of the notification sender: own session scope, log sinks as adapters."""

from __future__ import annotations

from core.celery_app import app
from core.db import session_scope
from dispatch import notifications
from dispatch.notifications_senders import log_senders


@app.task(name=notifications.DELIVER_TASK)
def deliver() -> int:
    with session_scope() as session:
        return notifications.deliver_pending(session, senders=log_senders())
