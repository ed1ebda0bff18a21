"""Replenishment planning: keep every shelf above its reorder point from the tier above.

Rule, per (location, sku) with a policy (target_level > 0):

    low       ⇔ on_hand − reserved ≤ reorder_point
    need      = target_level − (on_hand − reserved) − incoming     (incoming = planned + in transit)
    planned   = min(need, parent's on_hand − reserved)

All SKUs of one location planned in a run go on ONE transfer from its parent; a planned
replenishment transfer on that leg that has not left yet is topped up rather than doubled.

Decisions:
- The parent gives everything it has available (`on_hand − reserved`), not only what lies above
  its own reorder point. Holding units back at the parent while a store's shelf is empty only
  moves the stock-out to where customers see it; the parent's own customers are protected by
  their reservations (reserved units are never available), and the transfer's reservation at the
  parent drops *its* level, which requests the parent's own replenishment (the cascade runs up to
  the central warehouse). Nothing can oversell the parent: its rows are locked and `ledger.move`
  re-checks the guard.
- What the parent cannot give raises an `unfillable_transfer` alert at the destination with the
  shortfall; so does a location with no (usable) parent: the central warehouse's reorders go to
  suppliers, outside this system. The alert resolves once a run finds the need covered.
- `stock_out` = nothing available of a ranged SKU; resolved when stock is back above 0.
- Levels with target 0 are not ranged at the location: never replenished, never alerted.
- Inactive locations are not replenished and their alerts are resolved (nothing to act on).

Concurrency: runs for one destination are serialised by a transaction-scoped advisory lock, and
each run reads levels together with incoming quantities in one statement, after taking the lock,
so a second run sees the first one's transfer and plans nothing for the same need.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

import structlog
from sqlalchemy.orm import Session

from stores.models import TIER, Location
from warehouse import alert_repository, alerts, reservations
from warehouse import transfer_repository as repo
from warehouse.models import AlertKind
from warehouse.replenishment_requests import (
    REPLENISH_TASK,
    SWEEP_TASK,
    maybe_request_replenishment,
    request_replenishment,
)
from warehouse.transfers import plan_replenishment_transfer

__all__ = [
    "REPLENISH_TASK",
    "SWEEP_TASK",
    "ReplenishmentResult",
    "maybe_request_replenishment",
    "replenish_location",
    "request_replenishment",
    "sweep",
]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ReplenishmentResult:
    location_id: uuid.UUID
    transfer_id: uuid.UUID | None = None
    # SKU → units added to the transfer in this run.
    planned: dict[uuid.UUID, int] = field(default_factory=dict)
    # SKU → units needed that nobody could give.
    shortfalls: dict[uuid.UUID, int] = field(default_factory=dict)
    stock_outs: list[uuid.UUID] = field(default_factory=list)


def replenish_location(
    session: Session, *, location_id: uuid.UUID, sku_ids: Collection[uuid.UUID] | None = None
) -> ReplenishmentResult:
    """Plan what `location_id` needs (only `sku_ids`, or every SKU that is low or alerted) and
    bring its alerts up to date. Idempotent: a second run right after plans nothing more."""
    # First statement of the run: everything below must be read after the lock is held.
    repo.lock_replenishment(session, location_id)
    location = repo.get_location(session, location_id)
    if location is None:
        log.warning("replenish_unknown_location", location_id=str(location_id))
        return ReplenishmentResult(location_id)
    if not location.active:
        _resolve_everything(session, location_id)
        return ReplenishmentResult(location_id)

    candidates = repo.replenishment_candidates(session, location_id=location_id, sku_ids=sku_ids)
    stock_outs = alerts.sync_stock_outs(session, location_id=location_id, levels=candidates)
    needs: dict[uuid.UUID, int] = {}
    settled: list[uuid.UUID] = []
    for candidate in candidates:
        need = 0
        if candidate.target_level > 0 and candidate.available <= candidate.reorder_point:
            need = candidate.target_level - candidate.available - candidate.incoming
        if need > 0:
            needs[candidate.sku_id] = need
        else:
            settled.append(candidate.sku_id)
    # Not low any more, or covered by what is already on its way.
    alerts.resolve_alerts(session, location_id=location_id, sku_ids=settled, kind=AlertKind.unfillable_transfer)
    if not needs:
        return ReplenishmentResult(location_id, stock_outs=stock_outs)

    source, why_not = _source_for(session, location)
    if source is None:
        for sku_id, need in needs.items():
            _unfillable(session, location_id, sku_id, shortfall=need, detail=why_not)
        return ReplenishmentResult(location_id, shortfalls=dict(needs), stock_outs=stock_outs)

    # The open truck on this leg before the source's levels: dispatching or cancelling it locks
    # the transfer and then those levels, so taking them the other way round could deadlock.
    repo.open_replenishment_transfer(session, from_location_id=source.id, to_location_id=location.id)
    spare = repo.lock_available(session, location_id=source.id, sku_ids=needs.keys())
    for sku_id in sorted(spare):
        # The parent's lapsed checkout holds are spare too; release them now that the rows are ours.
        spare[sku_id] += reservations.reclaim_locked(session, location_id=source.id, sku_id=sku_id)
    planned: dict[uuid.UUID, int] = {}
    shortfalls: dict[uuid.UUID, int] = {}
    filled: list[uuid.UUID] = []
    for sku_id in sorted(needs):
        give = min(needs[sku_id], max(0, spare.get(sku_id, 0)))
        if give > 0:
            planned[sku_id] = give
        if give < needs[sku_id]:
            shortfalls[sku_id] = needs[sku_id] - give
            _unfillable(
                session,
                location_id,
                sku_id,
                shortfall=shortfalls[sku_id],
                detail=f"{source.code} can spare {give} of the {needs[sku_id]} needed.",
            )
        else:
            filled.append(sku_id)
    alerts.resolve_alerts(session, location_id=location_id, sku_ids=filled, kind=AlertKind.unfillable_transfer)
    transfer_id = None
    if planned:
        transfer = plan_replenishment_transfer(session, source=source, destination=location, quantities=planned)
        transfer_id = transfer.id
    log.info(
        "replenishment_planned",
        location_id=str(location_id),
        transfer_id=str(transfer_id) if transfer_id else None,
        lines=len(planned),
        short=len(shortfalls),
    )
    return ReplenishmentResult(
        location_id, transfer_id=transfer_id, planned=planned, shortfalls=shortfalls, stock_outs=stock_outs
    )


def sweep(session: Session) -> int:
    """Request a replenishment run for every location that may need one (a level at/below its
    reorder point, or an open alert): catches any change whose own request was missed. Each
    location runs as its own task, so one failure does not hold up the others."""
    location_ids = repo.locations_to_sweep(session)
    for location_id in location_ids:
        request_replenishment(session, location_id=location_id, sku_ids=None)
    return len(location_ids)


def _source_for(session: Session, location: Location) -> tuple[Location | None, str]:
    if location.parent_id is None:
        return None, "No parent location to replenish from; reorder from a supplier."
    parent = repo.get_location(session, location.parent_id)
    if parent is None or not parent.active:
        return None, "The parent location is inactive."
    if TIER[parent.kind] >= TIER[location.kind]:
        # Bad network data: replenishment only ever moves stock down the tiers.
        return None, "The parent location is not on a higher tier."
    return parent, ""


def _unfillable(session: Session, location_id: uuid.UUID, sku_id: uuid.UUID, *, shortfall: int, detail: str) -> None:
    alerts.raise_alert(
        session,
        location_id=location_id,
        sku_id=sku_id,
        kind=AlertKind.unfillable_transfer,
        detail=detail,
        shortfall=shortfall,
    )


def _resolve_everything(session: Session, location_id: uuid.UUID) -> None:
    by_kind: dict[AlertKind, list[uuid.UUID]] = defaultdict(list)
    for sku_id, kind in alert_repository.open_alerts_at(session, location_id=location_id):
        by_kind[kind].append(sku_id)
    for kind, sku_ids in by_kind.items():
        alerts.resolve_alerts(session, location_id=location_id, sku_ids=sku_ids, kind=kind)
