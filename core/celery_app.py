"""The Celery application: Redis broker, at-least-once delivery, tasks sent only after commit.

Run a worker with `celery -A core.celery_app worker`, the periodic ticks with
`celery -A core.celery_app beat`. Task modules are named as strings (configuration, not imports)
so that the kernel does not depend on the domains that register tasks.
"""

from __future__ import annotations

import importlib.util
from typing import Any
from urllib.parse import parse_qs, urlparse

from celery import Celery, Signature
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.settings import get_settings

TASK_MODULES = (
    "core.tasks",
    "warehouse.tasks",
    "warehouse.reservation_tasks",
    "dispatch.tasks",
    "dispatch.notifications_tasks",
)
_PENDING_KEY = "o2o_after_commit_tasks"


def kombu_url(redis_url: str) -> str:
    """redis-py's `unix:///sock?db=N` → kombu's `redis+socket:///sock?virtual_host=N`."""
    parsed = urlparse(redis_url)
    if parsed.scheme != "unix":
        return redis_url
    db = parse_qs(parsed.query).get("db", ["0"])[0]
    return f"redis+socket://{parsed.path}?virtual_host={db}"


def _existing(modules: tuple[str, ...]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m.split(".")[0]) and importlib.util.find_spec(m)]


def make_celery() -> Celery:
    broker = kombu_url(get_settings().effective_redis_url())
    celery = Celery("o2o", broker=broker, backend=broker, include=_existing(TASK_MODULES))
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=3600,
        task_ignore_result=True,
        enable_utc=True,
        timezone="UTC",
        broker_connection_retry_on_startup=True,
        # Redis redelivers an unacked task after this; it must exceed the longest task.
        broker_transport_options={"visibility_timeout": 3600},
        beat_schedule={
            "relay-outbox": {"task": "core.relay_outbox", "schedule": 1.0},
            # Catches any drop below a reorder point whose immediate replenishment event was missed.
            "replenishment-sweep": {
                "task": "warehouse.replenishment_sweep",
                "schedule": 60.0,
                "options": {"expires": 55},
            },
            # Releases expired holds. Not urgent for correctness (an expired hold already counts as
            # available and `reserve` reclaims it), but it keeps `reserved` honest for readers.
            # One dispatch cycle per zone every few seconds; a late tick is dropped, not stacked.
            "dispatch-tick": {
                "task": "dispatch.tick",
                "schedule": get_settings().dispatch_cycle_period_s,
                "options": {"expires": get_settings().dispatch_cycle_period_s},
            },
            "purge-idempotency-keys": {
                "task": "dispatch.purge_idempotency_keys",
                "schedule": 3600.0,
                "options": {"expires": 3000},
            },
            "reservation-expiry-sweep": {
                "task": "warehouse.sweep_expired_reservations",
                "schedule": 30.0,
                "options": {"expires": 25},
            },
        },
    )
    return celery


app = make_celery()


def enqueue_after_commit(session: Session, signature: Signature[Any]) -> None:
    """Send `signature` only once the session's transaction has committed.

    A task sent before commit can run before its rows are visible (or for rows that a rollback
    then removes); queueing on the session and flushing in `after_commit` avoids both.
    """
    pending: list[Signature[Any]] = session.info.setdefault(_PENDING_KEY, [])
    pending.append(signature)


def take_pending(session: Session) -> list[Signature[Any]]:
    """Remove and return the tasks the transaction queued for after commit: a caller that runs
    them its own way (the city simulation, in virtual time) takes them before committing."""
    taken: list[Signature[Any]] = session.info.pop(_PENDING_KEY, [])
    return taken


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    for signature in session.info.pop(_PENDING_KEY, []):
        signature.apply_async()


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
