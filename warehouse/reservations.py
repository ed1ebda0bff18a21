"""Reservations: units held for an order (or a transfer) until picked, released or expired.

The API other packages use (services: `session` first, keyword-only, flush never commit):

- `reserve(...)`  all-or-nothing across lines, in its own SAVEPOINT: on failure only its own work
  is undone and `InsufficientStock` (409) carries per-line availability, so checkout can try
  the next location in the same transaction.
- `release(...)`, `commit(...)` (pick or transfer_out, possibly short), `commit_holder(...)`,
  `extend(...)` (paid: lift or move the expiry) — defined in `reservation_closing`.
- `expire_due(...)` (the sweeper), `reclaim_locked(...)`, `available(...)`, `holds_of(...)`.

Every level change goes through `ledger.move` (reserve (0,+q), release (0,−q), pick (−q,−q)),
so the ledger replays to the levels. Locking follows `warehouse.repository`'s discipline:
levels first, in (location, sku) order; reservations after, waited for only by their level's
holder. "An expired hold is never available, even before the sweep": `reserve` first reclaims
expired holds on the rows it touches, and every availability figure adds them back.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy.orm import Session, make_transient_to_detached

from core import clock
from warehouse import repository as repo
from warehouse import reservation_rules as rules
from warehouse.errors import InsufficientStock, UnknownStockLevel
from warehouse.ledger import Level, move
from warehouse.models import MovementKind, ReservationStatus, StockReservation
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
    skus = sorted(wanted)  # the one lock order of every stock writer: no deadlocks between them
    ids = {sku: uuid.uuid4() for sku in skus}
    note = reason[:200] or f"hold for {holder_id}"
    levels: dict[uuid.UUID, Level] = {}
    try:
        with session.begin_nested():
            peeks = repo.peek(session, location_id=location_id, sku_ids=skus, now=now)
            if len(peeks) < len(skus):
                raise UnknownStockLevel("This location does not stock every SKU.")
            # Inserted before the levels are touched, so that the hot rows stay locked for as
            # few round trips as possible (the level locks last until the caller commits).
            repo.insert_reservations(
                session,
                [
                    {
                        "id": ids[sku],
                        "location_id": location_id,
                        "sku_id": sku,
                        "qty": wanted[sku],
                        "holder_id": holder_id,
                        "holder_line": first_index[sku],
                        "expires_at": deadline,
                        "created_at": now,
                    }
                    for sku in skus
                ],
            )
            for sku in skus:
                peeked = peeks[sku].expired > 0
                if peeked:
                    _reclaim(session, location_id=location_id, sku_id=sku, now=now)
                levels[sku] = _hold(session, location_id, sku, wanted[sku], ids[sku], note, actor_id, now, peeked)
    except (InsufficientStock, UnknownStockLevel):
        raise _shortfall(session, location_id=location_id, wanted=wanted, now=now) from None

    low = [sku for sku in skus if peeks[sku].target_level > 0 and levels[sku].available <= peeks[sku].reorder_point]
    if low:
        request_replenishment(session, location_id=location_id, sku_ids=low)
    return [
        _attach(
            session,
            StockReservation(
                id=ids[sku],
                location_id=location_id,
                sku_id=sku,
                qty=wanted[sku],
                holder_id=holder_id,
                holder_line=first_index[sku],
                status=ReservationStatus.active,
                expires_at=deadline,
                created_at=now,
                closed_at=None,
            ),
        )
        for sku in skus
    ]


def _hold(
    session: Session,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    qty: int,
    reservation_id: uuid.UUID,
    note: str,
    actor_id: uuid.UUID | None,
    now: datetime,
    reclaimed: bool,
) -> Level:
    def attempt() -> Level:
        return move(
            session,
            location_id=location_id,
            sku_id=sku_id,
            kind=MovementKind.reserve,
            reserved_delta=qty,
            reason=note,
            ref_id=reservation_id,
            actor_id=actor_id,
        )

    try:
        return attempt()
    except InsufficientStock:
        # A hold that expired after the peek (or was committed just after it) would still
        # block this sale: reclaim once more, and retry only if that freed something.
        if reclaimed or _reclaim(session, location_id=location_id, sku_id=sku_id, now=now) == 0:
            raise
        return attempt()


def _reclaim(session: Session, *, location_id: uuid.UUID, sku_id: uuid.UUID, now: datetime) -> int:
    """Release the expired holds on one level, locking the level first; returns units freed."""
    repo.lock_level(session, location_id=location_id, sku_id=sku_id)
    return reclaim_locked(session, location_id=location_id, sku_id=sku_id, now=now)


def reclaim_locked(session: Session, *, location_id: uuid.UUID, sku_id: uuid.UUID, now: datetime | None = None) -> int:
    """Expire and release the expired holds on a level the caller has locked (any stock writer
    does this before judging what is free); returns the units freed. Holds being closed by
    someone else right now are skipped, never waited for."""
    closed = repo.reclaim_expired(session, location_id=location_id, sku_ids=[sku_id], now=now or clock.now())
    for item in closed:
        rules.release_units(session, item, rules.EXPIRED, None)
    return sum(item.qty for item in closed)


def _shortfall(
    session: Session, *, location_id: uuid.UUID, wanted: dict[uuid.UUID, int], now: datetime
) -> InsufficientStock:
    have = repo.availability(session, location_id=location_id, sku_ids=list(wanted), now=now)
    lines = [
        {"sku_id": str(sku), "requested": qty, "available": max(have.get(sku, 0), 0)}
        for sku, qty in sorted(wanted.items())
    ]
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
