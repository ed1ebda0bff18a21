"""The inventory benchmark's own database: created on the configured server next to the project's
database (`bench.database`), filled in bulk, reset between cases and checked.

Levels and their receipt lines are written with set-based SQL (20,000 rows in well under a
second); the few locations and the SKUs go through the ORM so that every default and CHECK of
the real schema applies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.database import libpq_url
from core.db import make_engine
from stores.models import Location, LocationKind
from warehouse.models import Category, Sku, TemperatureClass

BENCH_DB = "o2o_bench_inventory"
# Far more than any run can reserve: every attempt is measured against stock that is there.
ON_HAND = 1_000_000


@dataclass(frozen=True, slots=True)
class World:
    locations: list[uuid.UUID]
    skus: list[uuid.UUID]

    @property
    def hot(self) -> tuple[uuid.UUID, uuid.UUID]:
        return self.locations[0], self.skus[0]


def populate(url: str, *, locations: int, skus: int) -> World:
    """`locations` stores × `skus` SKUs, every level at ON_HAND with its receipt line."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with Session(engine) as session, session.begin():
            category = Category(slug="bench", name="Bench")
            session.add(category)
            session.flush()
            stores = [
                Location(
                    code=f"BENCH-{i:03d}",
                    name=f"Bench store {i}",
                    kind=LocationKind.store,
                    lat=52.40 + 0.01 * i,
                    lon=13.30,
                    opening_hours={},
                )
                for i in range(locations)
            ]
            items = [
                Sku(
                    code=f"BENCH-{i:05d}",
                    name=f"Bench item {i}",
                    category_id=category.id,
                    price_minor=199,
                    weight_g=400,
                    volume_ml=500,
                    temperature=TemperatureClass.ambient,
                    max_order_qty=999,
                )
                for i in range(skus)
            ]
            session.add_all([*stores, *items])
            session.flush()
            world = World([s.id for s in stores], [i.id for i in items])
            session.execute(
                text(
                    "INSERT INTO stock_levels (location_id, sku_id, on_hand, reserved, reorder_point, target_level,"
                    " bin, updated_at) SELECT l.id, s.id, 0, 0, 0, 0, '', now() FROM locations l CROSS JOIN skus s"
                )
            )
    finally:
        engine.dispose()
    reset(url)
    return world


def reset(url: str) -> None:
    """Back to a full shelf everywhere with an empty ledger (one receipt line per level), so that
    every case starts from the same state and measures successful reservations."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("TRUNCATE stock_reservations, stock_movements RESTART IDENTITY")
        conn.execute("UPDATE stock_levels SET on_hand = %s, reserved = 0", (ON_HAND,))
        conn.execute(
            "INSERT INTO stock_movements (location_id, sku_id, kind, on_hand_delta, reserved_delta, reason, created_at)"
            " SELECT location_id, sku_id, 'receipt', on_hand, 0, 'bench stock', now() FROM stock_levels"
        )
        conn.execute("VACUUM ANALYZE stock_levels, stock_movements, stock_reservations")


_CHECK = """
    SELECT coalesce(sum(l.reserved), 0) AS reserved,
           count(*) FILTER (WHERE l.reserved < 0 OR l.reserved > l.on_hand) AS oversold,
           count(*) FILTER (WHERE l.on_hand <> coalesce(m.on_hand, 0) OR l.reserved <> coalesce(m.reserved, 0))
               AS ledger_mismatches,
           count(*) FILTER (WHERE l.reserved <> coalesce(r.held, 0)) AS hold_mismatches
      FROM stock_levels l
      LEFT JOIN (SELECT location_id, sku_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
                   FROM stock_movements GROUP BY 1, 2) m USING (location_id, sku_id)
      LEFT JOIN (SELECT location_id, sku_id, sum(qty) AS held FROM stock_reservations
                  WHERE status = 'active' GROUP BY 1, 2) r USING (location_id, sku_id)
"""


def check(url: str, *, units: int, holds: bool) -> dict[str, Any]:
    """Did the database end where the clients say they went? `units` is what the clients were
    told they hold; `holds` whether every unit also has its reservation row (the service path)."""
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(_CHECK).fetchone()
    assert row is not None
    reserved, oversold, ledger_mismatches, hold_mismatches = (int(v) for v in row)
    return {
        "reserved_units": reserved,
        "accounted": reserved == units,
        "oversold_levels": oversold,
        "ledger_mismatches": ledger_mismatches,
        "hold_mismatches": hold_mismatches if holds else None,
    }
