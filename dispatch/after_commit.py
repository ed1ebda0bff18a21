"""Things a transaction asks for that must only happen once it has committed: another dispatch
cycle, and live messages to couriers and customers over Redis.

A message published before commit could announce a route or position that a rollback then takes
back; queueing them on the session and sending in `after_commit` avoids that (DESIGN.md §2).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import structlog
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.celery_app import app, enqueue_after_commit
from core.redis import get_redis
from dispatch.fleet_models import DispatchZoneLocation

RUN_CYCLE_TASK = "dispatch.run_cycle"
_PUBLISH_KEY = "o2o_after_commit_publish"
_CYCLES_KEY = "o2o_after_commit_cycles"
# Channels: one per courier (route updates and offers to the app), one per order (live tracking).
COURIER_CHANNEL = "o2o:courier:{courier_id}"
ORDER_CHANNEL = "o2o:track:order:{order_id}"
ORDER_LAST_KEY = "o2o:track:last:{order_id}"
LAST_FRAME_TTL_S = 3600

log = structlog.get_logger(__name__)


def request_cycle(session: Session, zone_id: uuid.UUID) -> None:
    """Run the zone's dispatch cycle as soon as this transaction commits (once per transaction)."""
    asked: set[uuid.UUID] = session.info.setdefault(_CYCLES_KEY, set())
    if zone_id in asked:
        return
    asked.add(zone_id)
    enqueue_after_commit(session, app.signature(RUN_CYCLE_TASK, args=[str(zone_id)]))


def request_cycle_for_location(session: Session, location_id: uuid.UUID) -> None:
    """An order got ready at this store: plan its zone now rather than at the next beat."""
    zone_id = session.scalar(
        select(DispatchZoneLocation.zone_id).where(DispatchZoneLocation.location_id == location_id)
    )
    if zone_id is not None:
        request_cycle(session, zone_id)


def publish(session: Session, channel: str, message: dict[str, Any], *, last_key: str | None = None) -> None:
    """Publish `message` on `channel` after commit; with `last_key`, also keep it there for replay."""
    pending: list[tuple[str, str, str | None]] = session.info.setdefault(_PUBLISH_KEY, [])
    pending.append((channel, json.dumps(message, separators=(",", ":"), default=str), last_key))


def to_courier(session: Session, courier_id: uuid.UUID, message: dict[str, Any]) -> None:
    publish(session, COURIER_CHANNEL.format(courier_id=courier_id), message)


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    pending = session.info.pop(_PUBLISH_KEY, [])
    session.info.pop(_CYCLES_KEY, None)
    if not pending:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        for channel, body, last_key in pending:
            pipe.publish(channel, body)
            if last_key is not None:
                pipe.set(last_key, body, ex=LAST_FRAME_TTL_S)
        pipe.execute()
    except Exception as exc:
        log.warning("live_publish_failed", error=repr(exc), messages=len(pending))


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PUBLISH_KEY, None)
    session.info.pop(_CYCLES_KEY, None)
