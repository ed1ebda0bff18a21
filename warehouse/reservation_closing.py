"""Ending holds: release, commit (pick or transfer_out, possibly short; one or a basket at once),
commit a whole holder, and extend (paid: lift or move the expiry). Import them from
`warehouse.reservations` (`commit_many` is not re-exported there yet: import it from here).

Locking as everywhere in stock: the levels of the reservations first (sorted), then the
reservation rows, so waiting on a reservation only ever happens behind its level's holder.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core import clock
from warehouse import repository as repo
from warehouse import reservation_rules as rules
from warehouse.ledger import Movement, move_many
from warehouse.models import MovementKind, ReservationStatus, StockReservation
from warehouse.repository import Pair
from warehouse.stock_errors import PickExceedsReservation, ReservationNotFound

SHORT_PICK = "short pick"
_COMMIT_KINDS = frozenset({MovementKind.pick, MovementKind.transfer_out})


@dataclass(frozen=True, slots=True)
class Commitment:
    """The outcome of committing one reservation: `picked` left the shelf, `released` went back."""

    reservation: StockReservation
    picked: int
    released: int


def release(
    session: Session,
    *,
    reservation_ids: Collection[uuid.UUID] | None = None,
    holder_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    reason: str,
    actor_id: uuid.UUID | None = None,
) -> list[StockReservation]:
    """Give held units back, by ids or by holder. Idempotent: reservations already closed are
    skipped; returns those released now. Unknown ids are a `ReservationNotFound`."""
    keys = rules.select_keys(session, reservation_ids=reservation_ids, holder_id=holder_id, location_id=location_id)
    held = rules.lock_held(session, keys)
    now = clock.now()
    released = []
    for reservation in held:
        if reservation.status is not ReservationStatus.active:
            continue
        rules.close(reservation, ReservationStatus.released, now)
        rules.release_units(session, rules.as_closed(reservation), reason or "released", actor_id)
        released.append(reservation)
    session.flush()
    return released


@dataclass(frozen=True, slots=True)
class ToCommit:
    """One reservation to commit with `commit_many`: `qty` picked (None: all of it)."""

    reservation_id: uuid.UUID
    qty: int | None = None
    reason: str = ""


def commit(
    session: Session,
    *,
    reservation_id: uuid.UUID,
    qty: int | None = None,
    kind: MovementKind = MovementKind.pick,
    reason: str = "",
    actor_id: uuid.UUID | None = None,
) -> Commitment:
    """The held units leave the shelf: `kind` pick (an order) or transfer_out (a transfer).

    `qty` below the held quantity is a short pick: the rest is released. Refuses a reservation
    that expired (`reservation_expired`) or was already closed (`reservation_closed`).
    """
    (commitment,) = commit_many(session, items=[ToCommit(reservation_id, qty, reason)], kind=kind, actor_id=actor_id)
    return commitment


def commit_many(
    session: Session,
    *,
    items: Sequence[ToCommit],
    kind: MovementKind = MovementKind.pick,
    actor_id: uuid.UUID | None = None,
    levels_held: Collection[Pair] | None = None,
) -> list[Commitment]:
    """`commit` for several reservations at once (a picker's whole basket), all or none: every
    reservation is checked before anything moves, and the ledger lines of all of them are
    written in one statement. Returns the commitments in the order of `items`.

    A caller that already holds the levels of these reservations (it locked them with every
    other level it touches, in one sorted pass) names them in `levels_held`: the reservations
    are then locked straight away, without locking the levels a second time. A reservation on
    a level not named there is a programming error (`ValueError`): waiting for it would break
    the lock order of `warehouse.repository`.
    """
    if kind not in _COMMIT_KINDS:
        raise ValueError(f"a reservation is committed by pick or transfer_out, not {kind}")
    ids = [item.reservation_id for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("commit each reservation once")
    if not ids:
        return []
    if levels_held is None:
        held = rules.lock_held(session, rules.select_keys(session, reservation_ids=ids))
    else:
        held = _lock_on_held_levels(session, ids, levels_held)
    by_id = {reservation.id: reservation for reservation in held}
    now = clock.now()
    plan: list[tuple[StockReservation, int, str]] = []
    for item in items:
        reservation = by_id[item.reservation_id]
        rules.require_open(reservation, now)
        picked = reservation.qty if item.qty is None else item.qty
        if isinstance(picked, bool) or not 0 <= picked <= reservation.qty:
            raise PickExceedsReservation(
                "The quantity must be between 0 and the quantity held.", held=reservation.qty, requested=picked
            )
        plan.append((reservation, picked, item.reason))
    return _commit_all(session, plan, kind, actor_id, now)


def _lock_on_held_levels(
    session: Session, ids: Sequence[uuid.UUID], levels_held: Collection[Pair]
) -> list[StockReservation]:
    held = repo.lock_reservations(session, set(ids))
    missing = set(ids) - {reservation.id for reservation in held}
    if missing:
        raise ReservationNotFound("No such reservation.", reservation_id=str(min(missing)))
    levels = set(levels_held)
    stray = [r.id for r in held if (r.location_id, r.sku_id) not in levels]
    if stray:
        raise ValueError(f"the caller does not hold the level of reservation {stray[0]}")
    return held


def commit_holder(
    session: Session,
    *,
    holder_id: uuid.UUID,
    location_id: uuid.UUID | None = None,
    kind: MovementKind = MovementKind.transfer_out,
    reason: str = "",
    actor_id: uuid.UUID | None = None,
) -> list[Commitment]:
    """Commit everything a holder still holds, in full (a transfer leaving its source). All or
    nothing: one expired hold refuses the whole call before anything moves."""
    if kind not in _COMMIT_KINDS:
        raise ValueError(f"a reservation is committed by pick or transfer_out, not {kind}")
    keys = repo.reservation_keys(session, holder_id=holder_id, location_id=location_id, active_only=True)
    held = [r for r in rules.lock_held(session, keys) if r.status is ReservationStatus.active]
    now = clock.now()
    for reservation in held:
        rules.require_open(reservation, now)
    return _commit_all(session, [(r, r.qty, reason) for r in held], kind, actor_id, now)


def _commit_all(
    session: Session,
    plan: Sequence[tuple[StockReservation, int, str]],
    kind: MovementKind,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> list[Commitment]:
    """Checked (reservation, picked, reason) triples: their ledger lines in one statement (in
    level order, as one `move` after another would have written them), then close them."""
    movements: list[Movement] = []
    for reservation, picked, reason in sorted(plan, key=lambda p: (p[0].location_id, p[0].sku_id, p[0].id)):
        movements.extend(_movements(reservation, picked, kind, reason, actor_id))
    move_many(session, movements)
    for reservation, picked, _ in plan:
        rules.close(reservation, ReservationStatus.committed if picked else ReservationStatus.released, now)
    session.flush()
    return [Commitment(reservation=r, picked=picked, released=r.qty - picked) for r, picked, _ in plan]


def _movements(
    reservation: StockReservation, picked: int, kind: MovementKind, reason: str, actor_id: uuid.UUID | None
) -> list[Movement]:
    """What committing `picked` of a reservation writes: the pick (−q on hand, −q reserved) and,
    for a short pick, the release of the rest (0, −rest)."""
    loc, sku, ref = reservation.location_id, reservation.sku_id, reservation.id
    out = []
    if picked:
        out.append(
            Movement(
                loc,
                sku,
                kind,
                on_hand_delta=-picked,
                reserved_delta=-picked,
                reason=reason or f"{kind.value} for {reservation.holder_id}",
                ref_id=ref,
                actor_id=actor_id,
            )
        )
    rest = reservation.qty - picked
    if rest:
        out.append(
            Movement(
                loc,
                sku,
                MovementKind.release,
                reserved_delta=-rest,
                reason=SHORT_PICK if picked else (reason or "nothing picked"),
                ref_id=ref,
                actor_id=actor_id,
            )
        )
    return out


def extend(
    session: Session,
    *,
    reservation_ids: Collection[uuid.UUID] | None = None,
    holder_id: uuid.UUID | None = None,
    ttl_s: int | None = None,
    expires_at: datetime | None = None,
    indefinite: bool = False,
) -> list[StockReservation]:
    """Move the expiry of live holds (paid: `indefinite=True` lifts it). A hold already past its
    expiry is not revived, even before the sweep reached it — its units were on offer again,
    so checkout must reserve afresh (`reservation_expired`)."""
    now = clock.now()
    deadline = rules.deadline(now=now, ttl_s=ttl_s, expires_at=expires_at, indefinite=indefinite)
    keys = rules.select_keys(session, reservation_ids=reservation_ids, holder_id=holder_id, include_expired=True)
    held = rules.lock_held(session, keys)
    live = [r for r in held if r.status in (ReservationStatus.active, ReservationStatus.expired)]
    if holder_id is not None and not live:
        raise ReservationNotFound("This holder holds nothing.", holder_id=str(holder_id))
    for reservation in held if reservation_ids is not None else live:
        rules.require_open(reservation, now)
    for reservation in live:
        reservation.expires_at = deadline
    session.flush()
    return live
