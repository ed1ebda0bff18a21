"""Stock as a state machine over three tiers (central warehouse → DC → store), against the real
database: hypothesis drives receipts, holds, releases, expiry, picks, transfers, counts and
write-offs in any order, and after every step

- `0 ≤ reserved ≤ on_hand` at every level and the ledger replays to the levels exactly;
- `on_hand` is what a plain Python model of the same steps says, `reserved` is the live holds
  plus what planned transfers promised, and what a buyer can get (`available`, where an expired
  hold is free even before the sweep) is the model's figure;
- every call succeeds or refuses exactly when the model says it should.

Each example runs in one outer transaction that is rolled back; each step in a savepoint, like
a request (a refused step leaves nothing behind).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.clock import FrozenClock, use_clock
from core.errors import DomainError
from stores.models import LocationKind
from tests.factories import create_location, create_sku, stock
from tests.warehouse.stock_checks import assert_stock_invariants
from warehouse import replenishment, reservations, transfers
from warehouse import stock as stock_ops
from warehouse.errors import InsufficientStock
from warehouse.models import TransferStatus
from warehouse.stock_errors import CountBelowReserved, ReservationExpired
from warehouse.transfer_schemas import ReceiptLineIn, TransferLineIn

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TIERS = ("central", "dc", "store")
LEGS = (("central", "dc"), ("dc", "store"), ("central", "store"))
INITIAL = {"central": 20, "dc": 12, "store": 6}
N_SKUS = 2
# The store is ranged (replenished from the DC); the DC and the central warehouse are not.
STORE_POLICY = (3, 10)

R = TypeVar("R")


@dataclass
class Hold:
    location: str
    sku: int
    qty: int
    expires_at: datetime


@dataclass
class PlannedTransfer:
    source: str
    destination: str
    lines: dict[int, int] = field(default_factory=dict)
    status: TransferStatus = TransferStatus.planned


class StockMachine(RuleBasedStateMachine):
    engine: ClassVar[Engine]
    checks: ClassVar[int] = 0  # invariant checks run against the database, over all examples

    def __init__(self) -> None:
        super().__init__()
        self._exit = ExitStack()
        self.clock = FrozenClock(T0)
        self._exit.enter_context(use_clock(self.clock))
        connection = self._exit.enter_context(self.engine.connect())
        outer = connection.begin()
        self._exit.callback(outer.rollback)
        self.session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        self._exit.callback(self.session.close)
        self.loc: dict[str, uuid.UUID] = {}
        self.skus: list[uuid.UUID] = []
        self._build()
        # The model. Its collections keep insertion order, never UUID order: hypothesis replays
        # and shrinks by choice index, so "the second hold" must mean the same one every run.
        self.on_hand = {(tier, sku): INITIAL[tier] for tier in TIERS for sku in range(N_SKUS)}
        self.promised = {(tier, sku): 0 for tier in TIERS for sku in range(N_SKUS)}
        self.holds: dict[uuid.UUID, Hold] = {}
        self.transfers: dict[uuid.UUID, PlannedTransfer] = {}

    def _build(self) -> None:
        s = self.session
        central = create_location(s, kind=LocationKind.central_warehouse, lat=52.40, lon=13.20, with_zone=False)
        dc = create_location(s, kind=LocationKind.distribution_centre, lat=52.45, lon=13.30, parent=central)
        store = create_location(s, lat=52.52, lon=13.40, parent=dc)
        self.loc = {"central": central.id, "dc": dc.id, "store": store.id}
        for _ in range(N_SKUS):
            sku = create_sku(s)
            self.skus.append(sku.id)
            stock(s, central, sku, INITIAL["central"])
            stock(s, dc, sku, INITIAL["dc"])
            reorder_point, target_level = STORE_POLICY
            stock(s, store, sku, INITIAL["store"], reorder_point=reorder_point, target_level=target_level)
        s.flush()

    def teardown(self) -> None:
        self._exit.close()

    # --- the model's figures --------------------------------------------------------------------

    def live_held(self, tier: str, sku: int) -> int:
        now = self.clock()
        return sum(h.qty for h in self.holds.values() if (h.location, h.sku) == (tier, sku) and h.expires_at > now)

    def available(self, tier: str, sku: int) -> int:
        return self.on_hand[tier, sku] - self.promised[tier, sku] - self.live_held(tier, sku)

    def step(self, call: Callable[[], R]) -> R | DomainError:
        """One request: a savepoint that a refusal rolls back; the refusal is returned."""
        try:
            with self.session.begin_nested():
                return call()
        except DomainError as refusal:
            return refusal

    # --- rules ------------------------------------------------------------------------------------

    @rule(tier=st.sampled_from(TIERS), sku=st.integers(0, N_SKUS - 1), qty=st.integers(1, 15))
    def receive(self, tier: str, sku: int, qty: int) -> None:
        result = self.step(
            lambda: stock_ops.receive(self.session, location_id=self.loc[tier], lines=[(self.skus[sku], qty)])
        )
        assert not isinstance(result, DomainError), result
        self.on_hand[tier, sku] += qty

    @rule(
        tier=st.sampled_from(TIERS),
        lines=st.lists(st.tuples(st.integers(0, N_SKUS - 1), st.integers(1, 4)), min_size=1, max_size=3),
        ttl_s=st.integers(5, 120),
    )
    def reserve(self, tier: str, lines: list[tuple[int, int]], ttl_s: int) -> None:
        wanted: dict[int, int] = {}
        for sku, qty in lines:
            wanted[sku] = wanted.get(sku, 0) + qty
        fits = all(self.available(tier, sku) >= qty for sku, qty in wanted.items())
        result = self.step(
            lambda: reservations.reserve(
                self.session,
                location_id=self.loc[tier],
                lines=[(self.skus[sku], qty) for sku, qty in lines],
                holder_id=uuid.uuid4(),
                ttl_s=ttl_s,
            )
        )
        if isinstance(result, DomainError):
            assert isinstance(result, InsufficientStock), result
            assert not fits, f"refused, yet the model has {[self.available(tier, sku) for sku in wanted]}"
            reported = {line["sku_id"]: line["available"] for line in result.extra["lines"]}
            assert reported == {str(self.skus[sku]): max(self.available(tier, sku), 0) for sku in wanted}
            return
        assert fits
        by_id = {sku_id: index for index, sku_id in enumerate(self.skus)}
        assert sorted((by_id[r.sku_id], r.qty) for r in result) == sorted(wanted.items())
        for r in sorted(result, key=lambda r: by_id[r.sku_id]):
            self.holds[r.id] = Hold(tier, by_id[r.sku_id], r.qty, self.clock() + timedelta(seconds=ttl_s))

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        reservation_id = data.draw(st.sampled_from(list(self.holds)))
        result = self.step(
            lambda: reservations.release(self.session, reservation_ids=[reservation_id], reason="changed mind")
        )
        assert not isinstance(result, DomainError), result
        del self.holds[reservation_id]

    @rule(seconds=st.integers(1, 90))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @rule()
    def sweep(self) -> None:
        now = self.clock()
        due = sum(1 for h in self.holds.values() if h.expires_at <= now)
        swept = self.step(lambda: reservations.expire_due(self.session))
        # Holds already reclaimed by a writer on their row are no longer due.
        assert isinstance(swept, int)
        assert swept <= due
        self.holds = {rid: h for rid, h in self.holds.items() if h.expires_at > now}

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def pick(self, data: st.DataObject) -> None:
        reservation_id = data.draw(st.sampled_from(list(self.holds)))
        hold = self.holds[reservation_id]
        picked = data.draw(st.integers(0, hold.qty))
        result = self.step(lambda: reservations.commit(self.session, reservation_id=reservation_id, qty=picked))
        if hold.expires_at <= self.clock():
            # Too late: the units were on offer again. The hold stays until swept or reclaimed.
            assert isinstance(result, ReservationExpired), result
            return
        del self.holds[reservation_id]
        assert isinstance(result, reservations.Commitment), result
        assert (result.picked, result.released) == (picked, hold.qty - picked)
        self.on_hand[hold.location, hold.sku] -= picked

    @rule(leg=st.sampled_from(LEGS), sku=st.integers(0, N_SKUS - 1), qty=st.integers(1, 10))
    def plan_transfer(self, leg: tuple[str, str], sku: int, qty: int) -> None:
        source, destination = leg
        fits = self.available(source, sku) >= qty
        result = self.step(
            lambda: transfers.create_transfer(
                self.session,
                from_location_id=self.loc[source],
                to_location_id=self.loc[destination],
                lines=[TransferLineIn(sku_id=self.skus[sku], qty=qty)],
            )
        )
        if isinstance(result, DomainError):
            assert isinstance(result, InsufficientStock), result
            assert not fits, f"refused, yet {source} has {self.available(source, sku)} available"
            return
        assert fits, f"{source} had {self.available(source, sku)} available, yet {qty} were promised"
        self.transfers[result.id] = PlannedTransfer(source, destination, {sku: qty})
        self.promised[source, sku] += qty

    @rule(tier=st.sampled_from(("dc", "store")))
    def replenish(self, tier: str) -> None:
        """The planner's own transfers (the store is ranged; the DC is not, so it plans nothing)."""
        source = {"dc": "central", "store": "dc"}[tier]
        spare = {sku: self.available(source, sku) for sku in range(N_SKUS)}
        result = self.step(lambda: replenishment.replenish_location(self.session, location_id=self.loc[tier]))
        assert isinstance(result, replenishment.ReplenishmentResult), result
        if not result.planned:
            return
        assert result.transfer_id is not None
        planned = self.transfers.setdefault(result.transfer_id, PlannedTransfer(source, tier))
        for sku_id, qty in sorted(result.planned.items(), key=lambda item: self.skus.index(item[0])):
            sku = self.skus.index(sku_id)
            assert 0 < qty <= spare[sku]
            planned.lines[sku] = planned.lines.get(sku, 0) + qty
            self.promised[source, sku] += qty

    def _transfers_in(self, status: TransferStatus) -> list[uuid.UUID]:
        return [tid for tid, t in self.transfers.items() if t.status is status]

    @precondition(lambda self: self._transfers_in(TransferStatus.planned))
    @rule(data=st.data(), cancel=st.booleans())
    def dispatch_or_cancel(self, data: st.DataObject, cancel: bool) -> None:
        transfer_id = data.draw(st.sampled_from(self._transfers_in(TransferStatus.planned)))
        planned = self.transfers[transfer_id]
        action = transfers.cancel_transfer if cancel else transfers.dispatch_transfer
        result = self.step(lambda: action(self.session, transfer_id=transfer_id))
        assert not isinstance(result, DomainError), result
        for sku, qty in planned.lines.items():
            self.promised[planned.source, sku] -= qty
            if not cancel:
                self.on_hand[planned.source, sku] -= qty
        planned.status = TransferStatus.cancelled if cancel else TransferStatus.in_transit

    @precondition(lambda self: self._transfers_in(TransferStatus.in_transit))
    @rule(data=st.data())
    def receive_transfer(self, data: st.DataObject) -> None:
        transfer_id = data.draw(st.sampled_from(self._transfers_in(TransferStatus.in_transit)))
        planned = self.transfers[transfer_id]
        counted = {sku: data.draw(st.integers(max(0, qty - 2), qty)) for sku, qty in planned.lines.items()}
        lines = [ReceiptLineIn(sku_id=self.skus[sku], qty_received=qty) for sku, qty in counted.items()]
        result = self.step(lambda: transfers.receive_transfer(self.session, transfer_id=transfer_id, lines=lines))
        assert not isinstance(result, DomainError), result
        for sku, qty in counted.items():
            self.on_hand[planned.destination, sku] += qty
        planned.status = TransferStatus.received

    @rule(tier=st.sampled_from(TIERS), sku=st.integers(0, N_SKUS - 1), counted=st.integers(0, 50))
    def count(self, tier: str, sku: int, counted: int) -> None:
        held = self.promised[tier, sku] + self.live_held(tier, sku)
        result = self.step(
            lambda: stock_ops.count(self.session, location_id=self.loc[tier], sku_id=self.skus[sku], counted=counted)
        )
        if counted < held:
            assert isinstance(result, CountBelowReserved), result
            return
        assert not isinstance(result, DomainError), result
        self.on_hand[tier, sku] = counted

    @rule(tier=st.sampled_from(TIERS), sku=st.integers(0, N_SKUS - 1), qty=st.integers(1, 6))
    def write_off(self, tier: str, sku: int, qty: int) -> None:
        fits = self.available(tier, sku) >= qty
        result = self.step(
            lambda: stock_ops.write_off(
                self.session, location_id=self.loc[tier], sku_id=self.skus[sku], qty=qty, reason="damaged"
            )
        )
        if not fits:
            assert isinstance(result, InsufficientStock), result
            return
        assert not isinstance(result, DomainError), result
        self.on_hand[tier, sku] -= qty

    # --- invariants -------------------------------------------------------------------------------

    @invariant()
    def levels_are_sound_and_the_ledger_replays_to_them(self) -> None:
        assert_stock_invariants(self.session, reservations_cover_reserved=False)
        type(self).checks += 1

    @invariant()
    def levels_are_what_the_model_says(self) -> None:
        rows = self.session.execute(
            text(
                """
                SELECT l.location_id, l.sku_id, l.on_hand, l.reserved,
                       (SELECT coalesce(sum(r.qty), 0) FROM stock_reservations r
                         WHERE r.location_id = l.location_id AND r.sku_id = l.sku_id
                           AND r.status = 'active') AS held
                  FROM stock_levels l WHERE l.location_id = ANY(:locs)
                """
            ),
            {"locs": list(self.loc.values())},
        ).all()
        tier_of = {loc: tier for tier, loc in self.loc.items()}
        by_id = {sku_id: index for index, sku_id in enumerate(self.skus)}
        seen = {}
        for row in rows:
            key = (tier_of[row.location_id], by_id[row.sku_id])
            # Holds count in `reserved` until released (by the sweep or a writer on the row);
            # transfers promise units without a reservation row.
            seen[key] = (row.on_hand, row.reserved - int(row.held))
        assert seen == {key: (self.on_hand[key], self.promised[key]) for key in self.on_hand}

    @invariant()
    def what_a_buyer_can_get_is_what_the_model_says(self) -> None:
        for tier in TIERS:
            have = reservations.available(self.session, location_id=self.loc[tier], sku_ids=self.skus)
            assert [have[sku_id] for sku_id in self.skus] == [
                max(self.available(tier, sku), 0) for sku in range(N_SKUS)
            ]


def test_stock_survives_any_sequence_of_operations(engine: Engine) -> None:
    """Small enough for every `make test`; O2O_STOCK_EXAMPLES=300 explores deeper (minutes)."""
    StockMachine.engine = engine
    StockMachine.checks = 0
    examples = int(os.environ.get("O2O_STOCK_EXAMPLES", "25"))
    run_state_machine_as_test(
        StockMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    # The invariants (asserted inside the machine) ran in every example (after each step), not
    # never: a machine whose set-up failed silently would pass with no checks at all.
    assert StockMachine.checks >= examples
