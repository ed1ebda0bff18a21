"""Asking for replenishment: cheap, after-commit requests that the worker then plans.

Kept apart from the planner so that every stock writer (reservations, picks, write-offs,
transfers) can call it without importing the planning machinery. The canonical import path
for callers is `warehouse.replenishment`, which re-exports both functions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from celery import Signature
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.celery_app import app, enqueue_after_commit
from warehouse import transfer_repository as repo
from warehouse.ledger import Level

REPLENISH_TASK = "warehouse.replenish_location"
SWEEP_TASK = "warehouse.replenishment_sweep"
_PENDING_KEY = "warehouse_replenish_requests"


def request_replenishment(
    session: Session, *, location_id: uuid.UUID, sku_ids: Iterable[uuid.UUID] | None = None
) -> None:
    """Plan replenishment of `location_id` once this transaction commits (`None` = every SKU
    that needs it). Nothing is sent if the transaction rolls back.

    Requests of one transaction for one location are merged into a single task: a checkout of
    twenty lines should wake the planner once, not twenty times. The merge edits the queued
    signature's kwargs in place, which is safe because it is serialised only at commit.
    """
    wanted = None if sku_ids is None else sorted({str(sku) for sku in sku_ids})
    if wanted == []:
        return
    pending: dict[uuid.UUID, Signature[Any]] = session.info.setdefault(_PENDING_KEY, {})
    signature = pending.get(location_id)
    if signature is None:
        signature = app.signature(
            REPLENISH_TASK, kwargs={"location_id": str(location_id), "sku_ids": wanted}, immutable=True
        )
        pending[location_id] = signature
        enqueue_after_commit(session, signature)
        return
    current: list[str] | None = signature.kwargs["sku_ids"]
    signature.kwargs["sku_ids"] = None if current is None or wanted is None else sorted({*current, *wanted})


def maybe_request_replenishment(session: Session, *, location_id: uuid.UUID, sku_id: uuid.UUID, level: Level) -> bool:
    """Call after any change that lowers `on_hand − reserved` (reserve, pick, write-off, …),
    with the `Level` that `ledger.move` returned. Requests replenishment if the level is at or
    below its reorder point; returns whether it did.

    Levels with target 0 are not ranged at the location and are never replenished.
    """
    policy = repo.stock_policy(session, location_id=location_id, sku_id=sku_id)
    if policy is None:
        return False
    reorder_point, target_level = policy
    if target_level <= 0 or level.available > reorder_point:
        return False
    request_replenishment(session, location_id=location_id, sku_ids=[sku_id])
    return True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    # The signatures themselves are sent (or dropped) by core.celery_app's own hooks; this only
    # makes sure the next transaction of a reused session starts a fresh merge table.
    session.info.pop(_PENDING_KEY, None)
