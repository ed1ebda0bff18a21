"""The seeded catalogue and its opening stock: SKUs over every category, levels at every tier.

Stock arrives through the ledger (`warehouse.ledger.move`), so the ledger replays to the levels
from the first minute, exactly as for stock received later by staff.
"""

from __future__ import annotations

import random
import uuid
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session

from o2o.seed_data import CATALOGUE, VARIANTS
from stores.models import TIER, Location, LocationKind
from warehouse.ledger import move
from warehouse.models import Category, MovementKind, Sku, StockLevel


class SeedProgress(Protocol):
    def step(self, description: str, total: int | None = None) -> None: ...
    def advance(self, amount: int = 1) -> None: ...


def _price(cents: float) -> int:
    """Shelf prices end in 9."""
    return max(9, round(cents / 10) * 10 - 1)


def catalogue(session: Session, rng: random.Random, count: int, progress: SeedProgress) -> list[tuple[Sku, str]]:
    """`count` SKUs spread over every subcategory (round robin), with their shelf bins."""
    progress.step("Building the catalogue", count)
    subcategories = []
    for d, (department, subs) in enumerate(CATALOGUE.items()):
        parent = Category(slug=_slug(department), name=department, pick_sequence=100 * d)
        session.add(parent)
        session.flush()
        for s, sub in enumerate(subs):
            category = Category(slug=_slug(sub[0]), name=sub[0], parent_id=parent.id, pick_sequence=100 * d + s + 1)
            session.add(category)
            subcategories.append((category, sub))
    session.flush()
    skus: list[tuple[Sku, str]] = []
    depth = max(len(sub[4]) for _category, sub in subcategories)
    for prefix, price_factor, size_factor in VARIANTS:
        for i in range(depth):
            for category, (_name, temperature, perishable, max_qty, products) in subcategories:
                if i >= len(products) or len(skus) == count:
                    continue
                name, cents, grams, ml = products[i]
                sku = Sku(
                    code=f"SKU-{len(skus) + 1:05d}",
                    name=f"{prefix}{name}",
                    category_id=category.id,
                    price_minor=_price(cents * price_factor * rng.uniform(0.92, 1.08)),
                    weight_g=round(grams * size_factor),
                    volume_ml=round(ml * size_factor),
                    temperature=temperature,
                    perishable=perishable,
                    max_order_qty=max_qty,
                )
                session.add(sku)
                skus.append((sku, f"A{category.pick_sequence:03d}-{i + 1:02d}"))
                progress.advance()
    session.flush()
    return skus


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower().replace("&", "and")).replace("--", "-").strip("-")


def opening_stock(
    session: Session, network: list[Location], skus: list[tuple[Sku, str]], rng: random.Random, progress: SeedProgress
) -> int:
    """Opening stock received through the ledger, then the replenishment policy per level.

    Targets grow up the tree — a DC holds about three times what its stores aim for, the central
    warehouse four times what the DCs do — and about one store line in twenty starts at or
    below its reorder point, so replenishment has work from the first minute.
    """
    progress.step("Receiving opening stock", len(skus))
    children: dict[uuid.UUID | None, list[Location]] = {}
    for location in network:
        children.setdefault(location.parent_id, []).append(location)
    # Top of the tree last in this list, so every parent's target can sum its children's.
    tiers = sorted(network, key=lambda loc: -TIER[loc.kind])
    policies: list[dict[str, object]] = []
    for sku, bin_label in skus:
        popularity = rng.lognormvariate(0, 0.6)
        targets: dict[uuid.UUID, int] = {}
        for location in tiers:
            if location.kind in (LocationKind.store, LocationKind.dark_store):
                # High-street stores carry most of the range, dark stores all of it.
                if location.kind is LocationKind.store and rng.random() < 0.12:
                    continue
                target = max(6, min(80, round(8 + 25 * popularity)))
                low = rng.random() < 0.05
                on_hand = rng.randint(1, round(target * 0.35)) if low else rng.randint(round(target * 0.6), target)
            else:
                factor = 3 if location.kind is LocationKind.distribution_centre else 4
                below = sum(targets.get(child.id, 0) for child in children.get(location.id, []))
                target = max(20, factor * below)
                on_hand = rng.randint(round(target * 0.7), target)
            targets[location.id] = target
            move(
                session, location_id=location.id, sku_id=sku.id, kind=MovementKind.receipt,
                on_hand_delta=on_hand, reason="seed: opening stock", create_level=True,
            )  # fmt: skip
            policies.append(
                {"location_id": location.id, "sku_id": sku.id, "reorder_point": round(target * 0.35),
                 "target_level": target, "bin": bin_label}
            )  # fmt: skip
        progress.advance()
    # One executemany by primary key instead of a statement per level.
    session.execute(update(StockLevel), policies)
    return len(policies)
