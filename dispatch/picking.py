"""Pick and pack at the fulfilling location: the pick list, start, per-line picked / short with a
substitute, pack; and the customer's answer to a proposed substitute.

Staff act only on their own location's part of an order: for them any other order (or another
location's half of a split one) does not exist (404). Stock follows the goods: a picked line
commits its reservation (a `pick` ledger line), a short line releases the rest, a substitute is
reserved when taken from the shelf and committed once allowed or approved
(`dispatch.substitutions`, which also holds the customer's answer: `decide_substitution`).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core import clock
from core.errors import InvalidInput
from dispatch import after_commit, orders, stock_moves
from dispatch import repository as repo
from dispatch import substitutions as subs
from dispatch.errors import (
    InvalidTransition,
    LineAlreadyDone,
    LineNotFound,
    LinesOpen,
    OrderNotFound,
    PickingNotStarted,
    SubstitutionNotAllowed,
)
from dispatch.models import (
    FulfilmentStatus,
    LineState,
    Order,
    OrderFulfilment,
    OrderLine,
    OrderStatus,
    SubstituteState,
    SubstitutionPolicy,
)
from dispatch.pick_tickets import ticket, tickets
from dispatch.repository import PickCatalogue
from dispatch.schemas import LinePickIn, PackIn, PickLineIn, PickList, PickTicket
from dispatch.states import TERMINAL, require_move, transition
from dispatch.substitutions import decide_substitution as decide_substitution
from warehouse.models import TemperatureClass
from warehouse.reservation_closing import ToCommit, commit_many


def pick_list(session: Session, *, location_id: uuid.UUID, limit: int = 50) -> PickList:
    """Open work at the location, the courier expected soonest first; lines in pick-path order."""
    fulfilments = repo.open_fulfilments(session, location_id=location_id, limit=limit)
    return PickList(location_id=location_id, items=tickets(session, location_id=location_id, fulfilments=fulfilments))


@dataclass(frozen=True, slots=True)
class _Mine:
    """The order (locked) and this location's part of it, with all its parts."""

    order: Order
    fulfilment: OrderFulfilment
    parts: list[OrderFulfilment]

    def ticket(self, lines: Sequence[OrderLine], catalogue: PickCatalogue) -> PickTicket:
        return ticket(self.order, self.fulfilment, lines=lines, catalogue=catalogue, split=len(self.parts) > 1)


def _mine(session: Session, *, order_id: uuid.UUID, location_id: uuid.UUID) -> _Mine:
    found = repo.lock_order_parts(session, order_id)
    fulfilment = next((f for f in found[1] if f.location_id == location_id), None) if found else None
    if found is None or fulfilment is None:
        raise OrderNotFound("No such order at your location.", order_id=str(order_id))
    return _Mine(found[0], fulfilment, found[1])


def _lines(session: Session, mine: _Mine, *, lock: bool) -> tuple[list[OrderLine], PickCatalogue]:
    return repo.lines_to_pick(session, order_id=mine.order.id, location_id=mine.fulfilment.location_id, lock=lock)


def accept(session: Session, *, order_id: uuid.UUID, location_id: uuid.UUID, actor_id: uuid.UUID) -> PickTicket:
    """The location takes the order on (already accepted by the other half of a split: no-op)."""
    mine = _mine(session, order_id=order_id, location_id=location_id)
    order = mine.order
    if order.status is OrderStatus.placed:
        transition(session, order, OrderStatus.accepted, actor_id=actor_id, details={"location_id": str(location_id)})
    elif order.status in TERMINAL:
        require_move(order, OrderStatus.accepted)  # a cancelled order is not taken on: 409
    session.flush()
    return mine.ticket(*_lines(session, mine, lock=False))


def start_picking(session: Session, *, order_id: uuid.UUID, location_id: uuid.UUID, actor_id: uuid.UUID) -> PickTicket:
    """Start picking this location's part; an order still `placed` is accepted on the way (the
    same two moves and events as `accept` then `start_picking`)."""
    mine = _mine(session, order_id=order_id, location_id=location_id)
    order, fulfilment = mine.order, mine.fulfilment
    if fulfilment.status is not FulfilmentStatus.pending:
        raise InvalidTransition(
            f"Picking cannot start: this part of the order is {fulfilment.status.value}.",
            current=fulfilment.status.value,
        )
    now = clock.now()
    if order.status is OrderStatus.placed:
        transition(session, order, OrderStatus.accepted, at=now, actor_id=actor_id)
    if order.status is not OrderStatus.picking:  # the other half of a split may have started it
        transition(session, order, OrderStatus.picking, at=now, actor_id=actor_id)
    fulfilment.status = FulfilmentStatus.picking
    fulfilment.picking_started_at = now
    session.flush()
    return mine.ticket(*_lines(session, mine, lock=False))


def pick_line(
    session: Session,
    *,
    order_id: uuid.UUID,
    line_no: int,
    location_id: uuid.UUID,
    data: PickLineIn,
    actor_id: uuid.UUID,
) -> PickTicket:
    """One line picked (or short, with a substitute): a basket of one, see `pick_lines`."""
    pick = LinePickIn(line_no=line_no, picked=data.picked, substitute=data.substitute)
    return pick_lines(session, order_id=order_id, location_id=location_id, picks=[pick], actor_id=actor_id)


def pick_lines(
    session: Session,
    *,
    order_id: uuid.UUID,
    location_id: uuid.UUID,
    picks: Sequence[LinePickIn],
    actor_id: uuid.UUID,
) -> PickTicket:
    """What the picker found for several lines at once (a scanned basket). All or nothing: every
    line is checked before anything is written, so one bad line refuses the whole call.

    Per line as ever: the picked units commit its reservation (a `pick` ledger line), the rest
    is released (short), a substitute is reserved and follows the customer's choice. Per call,
    not per line: one order lock, one read of the lines, one sorted lock of every level touched
    (lines and substitutes), one bulk commit of the reservations, one reprice.
    """
    twice = sorted(no for no, n in Counter(p.line_no for p in picks).items() if n > 1)
    if twice:
        raise InvalidInput("Report each line once.", code="duplicate_line", line_nos=twice)
    if not picks:
        raise InvalidInput("Report at least one line.", code="no_lines")
    mine = _mine(session, order_id=order_id, location_id=location_id)
    order, fulfilment = mine.order, mine.fulfilment
    _require_picking(fulfilment)
    lines, catalogue = _lines(session, mine, lock=True)
    found = _open_lines(lines, fulfilment, picks)
    for line, pick in found:
        _check_pick(order, line, pick)
    substitutes = subs.substitute_skus(session, order, found, catalogue)
    catalogue = catalogue.with_skus(substitutes.values())

    location = fulfilment.location_id
    levels = {(location, line.sku_id) for line, _ in found} | {(location, sku.id) for sku in substitutes.values()}
    stock_moves.lock_levels(session, levels)
    commit_many(
        session,
        items=[
            ToCommit(line.reservation_id, pick.picked, subs.line_note(order, line))
            for line, pick in found
            if line.reservation_id is not None
        ],
        actor_id=actor_id,
        levels_held=levels,
    )
    for line, pick in found:
        line.picked_qty = pick.picked
        line.state = LineState.picked if pick.picked == line.qty else LineState.short
        line.amount_minor = pick.picked * line.unit_price_minor
        if pick.substitute is not None:
            subs.propose(session, order, location, line, substitutes[pick.substitute.sku_id], pick, actor_id)
    subs.reprice(order, lines)
    session.flush()
    return mine.ticket(lines, catalogue)


def pack(
    session: Session, *, order_id: uuid.UUID, location_id: uuid.UUID, data: PackIn, actor_id: uuid.UUID
) -> PickTicket:
    """Close the bag(s). Every line must be picked or shorted first; a substitute the customer
    has not answered by now counts as rejected (the line is refunded). When every location of
    the order has packed, the order is `packed` and ready for its courier."""
    mine = _mine(session, order_id=order_id, location_id=location_id)
    order, fulfilment = mine.order, mine.fulfilment
    _require_picking(fulfilment)
    lines, catalogue = _lines(session, mine, lock=True)
    here = [line for line in lines if line.fulfilment_id == fulfilment.id]
    still_open = [line.line_no for line in here if line.state is LineState.open]
    if still_open:
        raise LinesOpen("Pick or short every line before packing.", line_nos=still_open)
    pending = [line for line in here if line.substitute_state is SubstituteState.proposed]
    if pending:
        stock_moves.lock_levels(
            session, {(fulfilment.location_id, line.substitute_sku_id) for line in pending if line.substitute_sku_id}
        )
    for line in pending:
        subs.settle(session, order, line, approve=False, actor_id=actor_id, why="unanswered when packed")
    _require_cold_chain(here, catalogue, data.cold_chain)
    now = clock.now()
    fulfilment.status = FulfilmentStatus.packed
    fulfilment.ready_at = now
    fulfilment.bags = data.bags
    fulfilment.cold_chain = data.cold_chain
    fulfilment.packed_by = actor_id
    subs.reprice(order, lines)
    # `parts` holds this fulfilment itself, now packed, and the others as locked with the order.
    if all(part.status is FulfilmentStatus.packed for part in mine.parts):
        if order.subtotal_minor == 0:
            # Nothing at all could be picked: there is nothing to deliver.
            session.flush()  # the cancellation re-reads the order and its lines
            orders.cancel(session, order_id=order.id, reason="nothing could be picked", actor_id=actor_id)
        else:
            ready = max(part.ready_at for part in mine.parts if part.ready_at is not None)
            transition(
                session, order, OrderStatus.packed, at=now, actor_id=actor_id, details={"ready_at": ready.isoformat()}
            )
            after_commit.request_cycle_for_locations(session, [p.location_id for p in mine.parts])  # a courier now
    session.flush()
    return mine.ticket(lines, catalogue)


# --- helpers -------------------------------------------------------------------------------------


def _require_picking(fulfilment: OrderFulfilment) -> None:
    if fulfilment.status is FulfilmentStatus.pending:
        raise PickingNotStarted("Start picking this order first.")
    if fulfilment.status is not FulfilmentStatus.picking:
        raise InvalidTransition(
            f"This part of the order is already {fulfilment.status.value}.", current=fulfilment.status.value
        )


def _open_lines(
    lines: Sequence[OrderLine], fulfilment: OrderFulfilment, picks: Sequence[LinePickIn]
) -> list[tuple[OrderLine, LinePickIn]]:
    by_no = {line.line_no: line for line in lines if line.fulfilment_id == fulfilment.id}
    found = []
    for pick in picks:
        line = by_no.get(pick.line_no)
        if line is None:
            raise LineNotFound("No such line to pick here.", line_no=pick.line_no)
        if line.state is not LineState.open:
            raise LineAlreadyDone(
                f"Line {pick.line_no} is already {line.state.value}.", line_no=pick.line_no, state=line.state.value
            )
        found.append((line, pick))
    return found


def _check_pick(order: Order, line: OrderLine, pick: LinePickIn) -> None:
    """The rules of one line that need no other row (the substitute's SKU comes after)."""
    if pick.picked > line.qty:
        raise InvalidInput(
            "More picked than ordered.",
            code="picked_exceeds_qty",
            qty=line.qty,
            picked=pick.picked,
            line_no=line.line_no,
        )
    if pick.substitute is not None:
        if pick.picked == line.qty:
            raise SubstitutionNotAllowed("Nothing is missing from this line, so there is nothing to substitute.")
        if order.substitution is SubstitutionPolicy.refund:
            raise SubstitutionNotAllowed("The customer asked for missing items to be refunded, not substituted.")


def _require_cold_chain(lines: Sequence[OrderLine], catalogue: PickCatalogue, cold_chain: bool) -> None:
    bagged = {line.sku_id for line in lines if line.picked_qty}
    bagged |= {
        line.substitute_sku_id
        for line in lines
        if line.substitute_state is SubstituteState.approved and line.substitute_sku_id
    }
    cold = sorted(
        sku.code
        for sku_id in bagged
        if (sku := catalogue.skus.get(sku_id)) is not None and sku.temperature is not TemperatureClass.ambient
    )
    if cold and not cold_chain:
        raise InvalidInput(
            "Chilled or frozen goods are in the bag: pack them cold.", code="cold_chain_required", skus=cold
        )
