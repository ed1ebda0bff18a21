"""Celery entrypoint of reservation expiry: `warehouse.sweep_expired_reservations`.

Beat runs it every few seconds. Each batch is its own short transaction (own `session_scope()`),
so a sweep never holds many locks for long; it stops when a batch comes back short or after
`max_batches`, and the next tick carries on. Nothing is lost if a sweep is late: an expired hold
already counts as available and `reserve` reclaims it on the spot.
"""

from __future__ import annotations

from core.celery_app import app
from core.db import session_scope
from warehouse import reservations

SWEEP_TASK = "warehouse.sweep_expired_reservations"
BATCH = 500


def sweep_expired_reservations(batch: int = BATCH, max_batches: int = 20) -> int:
    """Returns how many reservations expired."""
    total = 0
    for _ in range(max_batches):
        with session_scope() as session:
            count = reservations.expire_due(session, limit=batch)
        total += count
        if count < batch:
            break
    return total


# Registered without decorator syntax: Celery's decorator is untyped, and this keeps the function
# itself fully typed for direct calls (tests, the simulation's virtual-time loop).
sweep_expired_reservations_task = app.task(name=SWEEP_TASK)(sweep_expired_reservations)
