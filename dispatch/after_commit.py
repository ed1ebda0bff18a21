"""Things a transaction asks for that must only happen once it has committed: another dispatch
cycle, and live messages to couriers and customers over Redis.

A message published before commit could announce a route or position that a rollback then takes
back; queueing them on the session and sending in `after_commit` avoids that (DESIGN.md §2).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from typing import Any

import structlog
from sqlalchemy import bindparam, event, select
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
ORDER_SEQ_KEY = "o2o:track:seq:{order_id}"
# Dispatchers watch zones: one channel per zone with every courier position in it.
ZONE_CHANNEL = "o2o:live:zone:{zone_id}"
LAST_FRAME_TTL_S = 3600
SEQ_TTL_S = 2 * 24 * 3600  # longer than any order is tracked, so `seq` never restarts mid-order

# Number, publish and keep an order's frame in one atomic step: with INCR and PUBLISH as separate
# commands two API processes could publish seq 8 before seq 7. ARGV[4], when not empty, is the
# seq the caller saw last: the frame goes out only if nothing was published since (the stale
# notice, which every process watching the order may try to send, goes out once). A counter that
# is missing (first frame, or Redis lost its data) starts at the server's clock in milliseconds,
# so `seq` keeps increasing for watchers even across a Redis restart.
SEQUENCED_PUBLISH_LUA = """
if ARGV[4] ~= '' and (redis.call('GET', KEYS[1]) or '0') ~= ARGV[4] then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
local frame = '{"seq":' .. seq .. ',' .. string.sub(ARGV[2], 2)
redis.call('PUBLISH', ARGV[1], frame)
redis.call('SET', KEYS[2], frame, 'EX', ARGV[3])
return seq
"""

log = structlog.get_logger(__name__)


def request_cycle(session: Session, zone_id: uuid.UUID) -> None:
    """Run the zone's dispatch cycle as soon as this transaction commits (once per transaction)."""
    asked: set[uuid.UUID] = session.info.setdefault(_CYCLES_KEY, set())
    if zone_id in asked:
        return
    asked.add(zone_id)
    enqueue_after_commit(session, app.signature(RUN_CYCLE_TASK, args=[str(zone_id)]))


# Asked at every packed order: built once, not at each call.
_ZONES_OF_LOCATIONS = (
    select(DispatchZoneLocation.zone_id)
    .where(DispatchZoneLocation.location_id.in_(bindparam("location_ids", expanding=True)))
    .distinct()
)


def request_cycle_for_locations(session: Session, location_ids: Collection[uuid.UUID]) -> None:
    """An order got ready at these stores: plan their zones now rather than at the next beat (a
    split order over two zones is planned by one of them; the other's cycle passes it by)."""
    for zone_id in sorted(session.scalars(_ZONES_OF_LOCATIONS, {"location_ids": list(location_ids)})):
        request_cycle(session, zone_id)


def publish(session: Session, channel: str, message: dict[str, Any], *, last_key: str | None = None) -> None:
    """Publish `message` on `channel` after commit; with `last_key`, also keep it there for replay."""
    _pending(session).append((channel, _json(message), last_key, None))


def to_order(session: Session, order_id: uuid.UUID, message: dict[str, Any]) -> None:
    """A tracking frame for `order_id`'s watchers, after commit: numbered with the order's next
    `seq` and kept as the order's last frame (replayed to sockets that (re)subscribe)."""
    key = {"order_id": order_id}
    _pending(session).append(
        (ORDER_CHANNEL.format(**key), _json(message), ORDER_LAST_KEY.format(**key), ORDER_SEQ_KEY.format(**key))
    )


def _pending(session: Session) -> list[tuple[str, str, str | None, str | None]]:
    pending: list[tuple[str, str, str | None, str | None]] = session.info.setdefault(_PUBLISH_KEY, [])
    return pending


def couriers_messaged(session: Session) -> set[uuid.UUID]:
    """Couriers the transaction has queued an app message for (they are sent after commit)."""
    prefix = COURIER_CHANNEL.split("{", 1)[0]
    return {uuid.UUID(entry[0][len(prefix) :]) for entry in _pending(session) if entry[0].startswith(prefix)}


def _json(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), default=str)


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
        for channel, body, last_key, seq_key in pending:
            if seq_key is not None and last_key is not None:
                # EVAL, not a registered Script: a pipeline holding a Script first asks Redis
                # SCRIPT EXISTS, a second round trip on every commit. Redis caches the compiled
                # script by its digest, so sending the text again costs only its bytes.
                pipe.eval(SEQUENCED_PUBLISH_LUA, 2, seq_key, last_key, channel, body, LAST_FRAME_TTL_S, "", SEQ_TTL_S)
                continue
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
