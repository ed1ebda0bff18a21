"""Celery entrypoints of the order and dispatch domain: own unit of work, one service call.

- `dispatch.purge_idempotency_keys` (beat, hourly): checkout keys older than a day are forgotten.
- `dispatch.tick` (beat, every `dispatch_cycle_period_s`): one `dispatch.run_cycle` per active zone.
- `dispatch.run_cycle(zone_id)`: one cycle; skipped when another worker holds the zone's lock.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from core.celery_app import app
from core.db import session_scope
from dispatch import checkout, cycle
from dispatch.after_commit import RUN_CYCLE_TASK
from dispatch.fleet_models import DispatchZone

PURGE_KEYS_TASK = "dispatch.purge_idempotency_keys"
TICK_TASK = "dispatch.tick"


@app.task(name=PURGE_KEYS_TASK)
def purge_idempotency_keys() -> int:
    """Returns how many keys were forgotten."""
    with session_scope() as session:
        return checkout.purge_keys(session)


@app.task(name=RUN_CYCLE_TASK)
def run_cycle(zone_id: str) -> dict[str, Any]:
    result = cycle.run_zone(uuid.UUID(zone_id))
    return {
        "zone_id": zone_id,
        "skipped": result.skipped,
        "run_id": str(result.run_id) if result.run_id else None,
        "assigned": result.assigned,
        "moved": result.moved,
        "unassigned": result.unassigned,
    }


@app.task(name=TICK_TASK)
def tick() -> int:
    """Fan out one cycle per active zone; the zone lock makes overlapping ticks harmless."""
    with session_scope() as session:
        zones = list(session.scalars(select(DispatchZone.id).where(DispatchZone.active.is_(True))))
    for zone_id in zones:
        # A cycle not started within one period is stale: the next tick sends a fresh one.
        run_cycle.apply_async(args=[str(zone_id)], expires=30)
    return len(zones)
