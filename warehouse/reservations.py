"""Reservations: units held for an order (or a transfer) until picked, released or expired.

The API other packages use (services: `session` first, keyword-only, flush never commit):

- `reserve(...)`  all-or-nothing across lines, in one statement inside its own SAVEPOINT
  (`warehouse.hold_repository`): a refusal changes nothing, lets go of its row locks, and
  `InsufficientStock` (409) carries per-line availability, so checkout can try the next
  location in the same transaction.
- `release(...)`, `commit(...)` (pick or transfer_out, possibly short), `commit_holder(...)`,
  `extend(...)` (paid: lift or move the expiry) — defined in `reservation_closing`.
- `expire_due(...)` (the sweeper), `reclaim_locked(...)`, `available(...)`, `holds_of(...)`.

Every level change writes its ledger line in the same statement (reserve (0,+q) in the hold
statement; release (0,−q) and pick (−q,−q) through `ledger.move`), so the ledger replays to the
levels. Locking follows `warehouse.repository`'s discipline: levels first, in (location, sku)
order; reservations after, waited for only by their level's holder. "An expired hold is never
available, even before the sweep": every availability figure adds lapsed holds back, and a
`reserve` that they would block releases them on the spot and tries again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from sqlalchemy.orm import Session, make_transient_to_detached

from core import clock
from warehouse import repository as repo
from warehouse import reservation_rules as rules
from warehouse.errors import InsufficientStock
from warehouse.hold_repository import HeldLevel, HoldLine, hold_all
from warehouse.models import ReservationStatus, StockReservation
from warehouse.replenishment_requests import request_replenishment
from warehouse.reservation_closing import Commitment, commit, commit_holder, extend, release

__all__ = [
    "Commitment",
    "available",
    "commit",
    "commit_holder",
    "expire_due",
    "extend",
    "holds_of",
    "reclaim_locked",
    "release",
    "reserve",
]


def reserve(
    session: Session,
    *,
    location_id: uuid.UUID,
    lines: Sequence[tuple[uuid.UUID, int]],
    holder_id: uuid.UUID,
    ttl_s: int | None = None,
    expires_at: datetime | None = None,
    indefinite: bool = False,
    actor_id: uuid.UUID | None = None,
    reason: str = "",
) -> list[StockReservation]:
    """Hold `lines` ((sku_id, qty), duplicates merged) at one location, all or nothing.

    Give exactly one of `ttl_s`, `expires_at` or `indefinite=True` (transfers: held until
    dispatched or cancelled). Returns one active reservation per SKU, in SKU order;
    `holder_line` is the index of the SKU's first line in `lines`. Raises `InsufficientStock`
    with `extra["lines"] = [{sku_id, requested, available}, ...]` when any line cannot be held
    (a SKU the location does not stock has 0 available).
    """
    now = clock.now()
    deadline = rules.deadline(now=now, ttl_s=ttl_s, expires_at=expires_at, indefinite=indefinite)
    wanted, first_index = rules.merge_lines(lines)
    # SKU order: the one lock order of every stock writer, so none of them deadlock each other.
    holds = [HoldLine(sku, wanted[sku], uuid.uuid4(), first_index[sku]) for sku in sorted(wanted)]
    note = reason[:200] or f"hold for {holder_id}"

    def attempt() -> dict[uuid.UUID, HeldLevel] | None:
        return hold_all(
            session,
            location_id=location_id,
            lines=holds,
            holder_id=holder_id,
            expires_at=deadline,
            reason=note,
            actor_id=actor_id,
            now=now,
        )

    levels = attempt() or _reclaim_and_retry(session, location_id, holds, attempt, now)
    low = [
        sku
        for sku, level in levels.items()
        if level.target_level > 0 and level.on_hand - level.reserved <= level.reorder_point
    ]
    if low:
        request_replenishment(session, location_id=location_id, sku_ids=low)
    return [
        _attach(
            session,
            StockReservation(
                id=h.reservation_id,
                location_id=location_id,
                sku_id=h.sku_id,
                qty=h.qty,
                holder_id=holder_id,
                holder_line=h.holder_line,
                status=ReservationStatus.active,
                expires_at=deadline,
                created_at=now,
                closed_at=None,
            ),
        )
        for h in holds
    ]


def _reclaim_and_retry(
    session: Session,
    location_id: uuid.UUID,
    holds: Sequence[HoldLine],
    attempt: Callable[[], dict[uuid.UUID, HeldLevel] | None],
    now: datetime,
) -> dict[uuid.UUID, HeldLevel]:
    """The slow path, after a refusal. Lapsed holds may be what blocked a line, or a release
    that committed while the guard looked at an older row version: lock the levels (SKU order,
    like the hold itself), release the lapsed holds on them, and try once more — now against
    the newest rows, which nobody else can change. A second refusal is a real shortage; the
    savepoint around all this undoes the releases and lets go of the locks."""
    with session.begin_nested():
        locked = repo.lock_levels(session, {(location_id, h.sku_id) for h in holds})
        for h in holds:
            if (location_id, h.sku_id) in locked:
                reclaim_locked(session, location_id=location_id, sku_id=h.sku_id, now=now)
        levels = attempt()
        if levels is None:
            raise _shortfall(session, location_id=location_id, holds=holds, now=now)
    return levels


def reclaim_locked(session: Session, *, location_id: uuid.UUID, sku_id: uuid.UUID, now: datetime | None = None) -> int:
    """Expire and release the expired holds on a level the caller has locked (any stock writer
    does this before judging what is free); returns the units freed. Holds being closed by
    someone else right now are skipped, never waited for."""
    closed = repo.reclaim_expired(session, location_id=location_id, sku_ids=[sku_id], now=now or clock.now())
    for item in closed:
        rules.release_units(session, item, rules.EXPIRED, None)
    return sum(item.qty for item in closed)


def _shortfall(
    session: Session, *, location_id: uuid.UUID, holds: Sequence[HoldLine], now: datetime
) -> InsufficientStock:
    have = repo.availability(session, location_id=location_id, sku_ids=[h.sku_id for h in holds], now=now)
    lines = [{"sku_id": str(h.sku_id), "requested": h.qty, "available": max(have.get(h.sku_id, 0), 0)} for h in holds]
    return InsufficientStock("Not every line can be held at this location.", location_id=str(location_id), lines=lines)


def _attach(session: Session, reservation: StockReservation) -> StockReservation:
    # The row was written by one multi-row INSERT; make the object persistent as if loaded,
    # instead of paying for a unit-of-work flush on the hottest path of the system.
    make_transient_to_detached(reservation)
    session.add(reservation)
    return reservation


# --- expiry and reads ---------------------------------------------------------------------------


def expire_due(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """The sweeper: expire up to `limit` holds past their expiry and release their units.

    It never waits for anything (levels and reservations both `SKIP LOCKED`), so it cannot
    deadlock with checkouts or pickers, nor queue behind a hot row: what is busy now is taken
    by the next sweep — or reclaimed by the next `reserve` on that row, which comes first.
    """
    now = now or clock.now()
    candidates = repo.due(session, now=now, limit=limit)
    if not candidates:
        return 0
    locked = repo.lock_levels(session, {(c.location_id, c.sku_id) for c in candidates}, skip_locked=True)
    ids = [c.id for c in candidates if (c.location_id, c.sku_id) in locked]
    if not ids:
        return 0
    closed = repo.expire_ids(session, ids=ids, now=now)
    for item in sorted(closed, key=lambda c: (c.location_id, c.sku_id, c.id)):
        rules.release_units(session, item, rules.EXPIRED, None)
    return len(closed)


def available(
    session: Session, *, location_id: uuid.UUID, sku_ids: Collection[uuid.UUID], now: datetime | None = None
) -> dict[uuid.UUID, int]:
    """What a buyer could hold now per SKU (expired holds count as free; unstocked SKUs are 0).
    A read without locks: `reserve` is what decides."""
    have = repo.availability(session, location_id=location_id, sku_ids=sku_ids, now=now or clock.now())
    return {sku: max(have.get(sku, 0), 0) for sku in sku_ids}


def holds_of(session: Session, *, holder_id: uuid.UUID) -> list[StockReservation]:
    """Every reservation of one holder, any status, in level order."""
    return repo.holder_reservations(session, holder_id=holder_id)
