"""Celery entrypoints of the order domain: own unit of work, one service call.

`dispatch.purge_idempotency_keys` is meant for beat (hourly): keys older than a day are
forgotten. (Its schedule entry belongs in `core.celery_app`'s beat_schedule.)
"""

from __future__ import annotations

from core.celery_app import app
from core.db import session_scope
from dispatch import checkout

PURGE_KEYS_TASK = "dispatch.purge_idempotency_keys"


@app.task(name=PURGE_KEYS_TASK)
def purge_idempotency_keys() -> int:
    """Returns how many keys were forgotten."""
    with session_scope() as session:
        return checkout.purge_keys(session)
