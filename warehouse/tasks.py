"""Celery entrypoints of the warehouse: ids in, own unit of work, one service call.

Beat runs `warehouse.replenishment_sweep` every minute (see core.celery_app's beat_schedule);
`warehouse.replenish_location` is requested after commit by whatever lowered a level.
"""

from __future__ import annotations

import uuid

from sqlalchemy.exc import OperationalError

from core.celery_app import app
from core.db import session_scope
from warehouse import replenishment


# A deadlock or serialisation failure with a concurrent stock writer is transient: the whole
# run is one transaction, so retrying it from the start is safe (and idempotent).
@app.task(
    name=replenishment.REPLENISH_TASK,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=30,
    max_retries=5,
)
def replenish_location(location_id: str, sku_ids: list[str] | None = None) -> str | None:
    """Returns the id of the transfer planned or topped up, if any."""
    with session_scope() as session:
        result = replenishment.replenish_location(
            session,
            location_id=uuid.UUID(location_id),
            sku_ids=None if sku_ids is None else [uuid.UUID(sku) for sku in sku_ids],
        )
    return str(result.transfer_id) if result.transfer_id else None


@app.task(name=replenishment.SWEEP_TASK)
def replenishment_sweep() -> int:
    """Returns how many locations were queued for a replenishment run."""
    with session_scope() as session:
        return replenishment.sweep(session)
