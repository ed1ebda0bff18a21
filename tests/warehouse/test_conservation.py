"""Stock is conserved across the network while everything happens at once.

Real threads, each with its own connection and `session_scope()`: customers buy at a store
(reserve at checkout, pick later), a supplier delivers to the central warehouse, replenishment
plans transfers, operators plan manual ones, and two crews dispatch, cancel and receive them
(sometimes short). A watcher takes consistent REPEATABLE READ snapshots throughout; in every one

    Σ on_hand (all locations) + Σ in transit = initial + receipts − sold − lost in transit

holds per SKU, nothing is negative, every source's reserved units are exactly what its planned
transfers promised (plus the store's open checkouts), and the ledger replays to the levels.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, text

from core.db import session_scope
from stores.models import LocationKind
from tests.factories import create_location, create_sku, stock
from warehouse import replenishment, reservations, transfer_queries, transfers
from warehouse import stock as stock_ops
from warehouse.errors import InsufficientStock
from warehouse.models import MovementKind, TransferStatus
from warehouse.transfer_errors import InvalidTransition
from warehouse.transfer_schemas import ReceiptLineIn, TransferLineIn

INITIAL = {"central": 300, "dc": 60, "store": 30}
ORDERS_PER_CUSTOMER = 30


@dataclass
class Network:
    central: uuid.UUID
    dc: uuid.UUID
    store: uuid.UUID
    skus: list[uuid.UUID]


class Tally:
    """What the actors know they did, counted only after their transaction committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sold: dict[uuid.UUID, int] = {}
        self.delivered: dict[uuid.UUID, int] = {}
        self.open_checkouts: dict[uuid.UUID, int] = {}

    def add(self, field: dict[uuid.UUID, int], sku: uuid.UUID, qty: int) -> None:
        with self._lock:
            field[sku] = field.get(sku, 0) + qty


def _build() -> Network:
    with session_scope() as session:
        central = create_location(session, kind=LocationKind.central_warehouse, lat=52.40, lon=13.2, with_zone=False)
        dc = create_location(session, kind=LocationKind.distribution_centre, lat=52.45, lon=13.3, parent=central)
        store = create_location(session, lat=52.52, lon=13.4, parent=dc)
        skus = [create_sku(session) for _ in range(2)]
        for sku in skus:
            stock(session, central, sku, INITIAL["central"])
            stock(session, dc, sku, INITIAL["dc"], reorder_point=30, target_level=80)
            stock(session, store, sku, INITIAL["store"], reorder_point=10, target_level=30)
        return Network(central.id, dc.id, store.id, [sku.id for sku in skus])


SNAPSHOT_SQL = {
    "levels": """
        SELECT sku_id, SUM(on_hand), COUNT(*) FILTER (WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand)
          FROM stock_levels WHERE sku_id = ANY(:skus) GROUP BY sku_id""",
    "in_transit": """
        SELECT l.sku_id, SUM(l.qty) FROM transfer_lines l JOIN transfers t ON t.id = l.transfer_id
         WHERE t.status = 'in_transit' AND l.sku_id = ANY(:skus) GROUP BY l.sku_id""",
    "lost": """
        SELECT l.sku_id, SUM(l.qty - l.qty_received) FROM transfer_lines l JOIN transfers t ON t.id = l.transfer_id
         WHERE t.status = 'received' AND l.sku_id = ANY(:skus) GROUP BY l.sku_id""",
    "receipts": """
        SELECT sku_id, SUM(on_hand_delta) FROM stock_movements
         WHERE kind = 'receipt' AND sku_id = ANY(:skus) GROUP BY sku_id""",
    "sold": """
        SELECT sku_id, -SUM(on_hand_delta) FROM stock_movements
         WHERE kind = 'pick' AND sku_id = ANY(:skus) GROUP BY sku_id""",
    # Units promised by planned transfers, per source.
    "promised": """
        SELECT t.from_location_id, l.sku_id, SUM(l.qty) FROM transfer_lines l JOIN transfers t ON t.id = l.transfer_id
         WHERE t.status = 'planned' AND l.sku_id = ANY(:skus) GROUP BY 1, 2""",
    "reserved": "SELECT location_id, sku_id, reserved FROM stock_levels WHERE sku_id = ANY(:skus)",
    # Units the store's open checkouts hold.
    "held": """
        SELECT location_id, sku_id, SUM(qty) FROM stock_reservations
         WHERE status = 'active' AND sku_id = ANY(:skus) GROUP BY 1, 2""",
    "replay_mismatches": """
        SELECT COUNT(*) FROM stock_levels s
          LEFT JOIN (SELECT location_id, sku_id, SUM(on_hand_delta) AS dh, SUM(reserved_delta) AS dr
                       FROM stock_movements GROUP BY 1, 2) m USING (location_id, sku_id)
         WHERE s.sku_id = ANY(:skus)
           AND (s.on_hand <> COALESCE(m.dh, 0) OR s.reserved <> COALESCE(m.dr, 0))""",
}


@dataclass(frozen=True)
class Snapshot:
    on_hand: dict[uuid.UUID, int]
    broken_levels: int
    in_transit: dict[uuid.UUID, int]
    lost: dict[uuid.UUID, int]
    receipts: dict[uuid.UUID, int]
    sold: dict[uuid.UUID, int]
    promised: dict[tuple[uuid.UUID, uuid.UUID], int]
    reserved: dict[tuple[uuid.UUID, uuid.UUID], int]
    held: dict[tuple[uuid.UUID, uuid.UUID], int]
    replay_mismatches: int


def _snapshot(engine: Engine, network: Network) -> Snapshot:
    """Everything read from one REPEATABLE READ snapshot, as if the world stood still."""
    params = {"skus": network.skus}
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        rows = {name: conn.execute(text(sql), params).all() for name, sql in SNAPSHOT_SQL.items()}

    def per_sku(name: str) -> dict[uuid.UUID, int]:
        return {r[0]: int(r[1]) for r in rows[name]}

    return Snapshot(
        on_hand=per_sku("levels"),
        broken_levels=sum(int(r[2]) for r in rows["levels"]),
        in_transit=per_sku("in_transit"),
        lost=per_sku("lost"),
        receipts=per_sku("receipts"),
        sold=per_sku("sold"),
        promised={(r[0], r[1]): int(r[2]) for r in rows["promised"]},
        reserved={(r[0], r[1]): int(r[2]) for r in rows["reserved"]},
        held={(r[0], r[1]): int(r[2]) for r in rows["held"]},
        replay_mismatches=int(rows["replay_mismatches"][0][0]),
    )


def _check(snap: Snapshot, network: Network) -> list[str]:
    problems: list[str] = []
    initial = sum(INITIAL.values())
    if snap.broken_levels:
        problems.append(f"{snap.broken_levels} levels negative or over-reserved")
    if snap.replay_mismatches:
        problems.append("the ledger does not replay to the levels")
    for sku in network.skus:
        on_hand = snap.on_hand.get(sku, 0)
        in_transit = snap.in_transit.get(sku, 0)
        receipts = snap.receipts.get(sku, 0) - initial
        sold, lost = snap.sold.get(sku, 0), snap.lost.get(sku, 0)
        if on_hand + in_transit != initial + receipts - sold - lost:
            problems.append(f"{sku}: {on_hand}+{in_transit} != {initial}+{receipts}-{sold}-{lost}")
        if min(on_hand, in_transit, sold, lost) < 0:
            problems.append(f"{sku}: a negative total")
        # Upstream nobody checks out: every reserved unit there is promised to a planned transfer.
        for source in (network.central, network.dc):
            reserved = snap.reserved.get((source, sku), 0)
            promised = snap.promised.get((source, sku), 0)
            if reserved != promised:
                problems.append(f"{sku} at {source}: reserved {reserved} but planned transfers promise {promised}")
        # At the store every reserved unit is an open checkout's hold (it sends no transfers).
        store_reserved, held = snap.reserved.get((network.store, sku), 0), snap.held.get((network.store, sku), 0)
        if store_reserved != held:
            problems.append(f"{sku} at the store: reserved {store_reserved} but checkouts hold {held}")
    return problems


def test_stock_is_conserved_while_sales_and_transfers_run_concurrently(committed_db: Engine) -> None:
    network = _build()
    tally = Tally()
    stop_logistics = threading.Event()
    stop_watching = threading.Event()
    errors: list[BaseException] = []
    snapshots: list[list[str]] = []

    def actor(fn):
        def run() -> None:
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)

        return threading.Thread(target=run)

    def customer(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(ORDERS_PER_CUSTOMER):
            basket = sorted({sku: rng.randint(1, 3) for sku in rng.sample(network.skus, rng.randint(1, 2))}.items())
            holder = uuid.uuid4()
            try:
                with session_scope() as session:  # checkout: every line or none, as customers get it
                    reservations.reserve(session, location_id=network.store, lines=basket, holder_id=holder, ttl_s=600)
            except InsufficientStock:
                continue
            for sku, qty in basket:
                tally.add(tally.open_checkouts, sku, qty)
            time.sleep(rng.random() * 0.01)
            with session_scope() as session:  # picking, a moment later: the held units leave
                picked = reservations.commit_holder(session, holder_id=holder, kind=MovementKind.pick)
            assert sorted((c.reservation.sku_id, c.picked) for c in picked) == basket
            for sku, qty in basket:
                tally.add(tally.sold, sku, qty)
                tally.add(tally.open_checkouts, sku, -qty)

    def supplier() -> None:
        rng = random.Random(99)
        while not stop_logistics.is_set():
            sku, qty = rng.choice(network.skus), rng.randint(5, 20)
            with session_scope() as session:
                stock_ops.receive(session, location_id=network.central, lines=[(sku, qty)], reference="supplier")
            tally.add(tally.delivered, sku, qty)
            time.sleep(0.05)

    def planner() -> None:
        while not stop_logistics.is_set():
            for location in (network.store, network.dc):
                with session_scope() as session:
                    replenishment.replenish_location(session, location_id=location)
            time.sleep(0.01)

    def operator() -> None:
        rng = random.Random(7)
        while not stop_logistics.is_set():
            lines = [TransferLineIn(sku_id=sku, qty=rng.randint(1, 4)) for sku in network.skus]
            try:
                with session_scope() as session:
                    transfers.create_transfer(
                        session, from_location_id=network.central, to_location_id=network.store, lines=lines
                    )
            except InsufficientStock:
                pass
            time.sleep(0.03)

    def crew(seed: int) -> None:
        rng = random.Random(seed)
        while not stop_logistics.is_set():
            with session_scope() as session:
                page = transfer_queries.list_transfers(
                    session, statuses=(TransferStatus.planned, TransferStatus.in_transit), limit=20
                )
            if not page.items:
                time.sleep(0.005)
                continue
            transfer = rng.choice(page.items)
            try:
                with session_scope() as session:
                    if transfer.status is TransferStatus.in_transit:
                        counted = [
                            ReceiptLineIn(
                                sku_id=line.sku_id,
                                qty_received=line.qty - (1 if rng.random() < 0.2 else 0),
                            )
                            for line in transfer.lines
                        ]
                        transfers.receive_transfer(session, transfer_id=transfer.id, lines=counted)
                    elif rng.random() < 0.1:
                        transfers.cancel_transfer(session, transfer_id=transfer.id)
                    else:
                        transfers.dispatch_transfer(session, transfer_id=transfer.id)
            except InvalidTransition:
                pass  # the other crew got there first: exactly what the row lock is for

    def watcher() -> None:
        while not stop_watching.is_set():
            snapshots.append(_check(_snapshot(committed_db, network), network))

    customers = [actor(lambda seed=seed: customer(seed)) for seed in (1, 2)]
    logistics = [actor(supplier), actor(planner), actor(operator), actor(lambda: crew(3)), actor(lambda: crew(4))]
    watching = actor(watcher)
    everyone = [*customers, *logistics, watching]
    for thread in everyone:
        thread.start()
    for thread in customers:
        thread.join(timeout=120)
    stop_logistics.set()
    for thread in logistics:
        thread.join(timeout=60)
    stop_watching.set()
    watching.join(timeout=60)

    assert errors == [], [str(e)[:500] for e in errors]
    assert len(snapshots) >= 5
    assert [problems for problems in snapshots if problems] == []

    final = _snapshot(committed_db, network)
    assert _check(final, network) == []
    assert final.sold == {sku: qty for sku, qty in tally.sold.items() if qty}
    assert sum(tally.sold.values()) > 0
    for sku in network.skus:
        assert final.receipts.get(sku, 0) - sum(INITIAL.values()) == tally.delivered.get(sku, 0)
    # Enough happened for the check to mean something.
    with session_scope() as session:
        statuses: dict[str, int] = dict(
            session.execute(text("SELECT status, COUNT(*) FROM transfers GROUP BY status")).all()
        )
    assert statuses.get("received", 0) > 0
    assert all(qty == 0 for qty in tally.open_checkouts.values())
