"""Kernel tasks: the outbox relay, and a ping used to check that workers are alive."""

from __future__ import annotations

from core.celery_app import app
from core.db import session_scope
from core.events import relay
from core.metrics import OUTBOX_PUBLISHED
from core.redis import get_redis


@app.task(name="core.relay_outbox")
def relay_outbox() -> int:
    with session_scope() as session:
        count = relay(session, get_redis())
    OUTBOX_PUBLISHED.inc(count)
    return count


@app.task(name="core.ping", ignore_result=False)
def ping(value: str) -> str:
    """Echoes its argument; the test harness and `o2o stack status` use it to see a live worker."""
    return value
