"""A small network for order tests: two stores whose zones both cover the customer's door, the
nearer one ~220 m away and the farther one ~1.3 km, plus a distribution centre without a zone
covering it; a few SKUs; two customers; staff at each store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth.models import Role, User
from core.events import OutboxEvent
from stores.models import Location, LocationKind
from tests.factories import auth_headers, create_category, create_location, create_sku, create_user, place_order, stock
from warehouse.models import Sku, StockLevel, TemperatureClass

DOOR = {"lat": 52.52, "lon": 13.405}


@dataclass
class World:
    near: Location
    far: Location
    dc: Location
    milk: Sku
    bread: Sku
    eggs: Sku
    ice: Sku  # frozen
    customer: User
    other: User
    near_staff: User
    far_staff: User

    def headers(self, who: str) -> dict[str, str]:
        return auth_headers(getattr(self, who))


def build(session: Session) -> World:
    dc = create_location(
        session, kind=LocationKind.distribution_centre, lat=52.40, lon=13.10, with_zone=True
    )  # its zone is far away from the door
    near = create_location(session, lat=52.522, lon=13.405, parent=dc)
    far = create_location(session, lat=52.532, lon=13.405, parent=dc)
    dairy = create_category(session)
    dairy.pick_sequence = 30
    bakery = create_category(session)
    bakery.pick_sequence = 10
    frozen = create_category(session)
    frozen.pick_sequence = 90
    session.flush()
    return World(
        near=near,
        far=far,
        dc=dc,
        milk=create_sku(session, category=dairy, price_minor=129),
        bread=create_sku(session, category=bakery, price_minor=349),
        eggs=create_sku(session, category=dairy, price_minor=299, max_order_qty=5),
        ice=create_sku(session, category=frozen, price_minor=499, temperature=TemperatureClass.frozen),
        customer=create_user(session),
        other=create_user(session),
        near_staff=create_user(session, role=Role.staff, location_id=near.id),
        far_staff=create_user(session, role=Role.staff, location_id=far.id),
    )


def level(session: Session, location: Location, sku: Sku) -> tuple[int, int]:
    row = session.get(StockLevel, (location.id, sku.id), populate_existing=True)
    return (row.on_hand, row.reserved) if row else (0, 0)


def events_of(session: Session, order_id: str) -> list[str]:
    rows = session.scalars(
        select(OutboxEvent.topic).where(OutboxEvent.payload["order_id"].astext == order_id).order_by(OutboxEvent.id)
    )
    return list(rows)


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def stocked(session: Session) -> World:
    """The world with 20 of each of its SKUs at the near store (the picking tests' start)."""
    world = build(session)
    for sku in (world.milk, world.bread, world.eggs, world.ice):
        stock(session, world.near, sku, 20)
    return world


def order_at(session: Session, w: World, *lines: tuple[Any, int], substitution: str = "refund") -> uuid.UUID:
    """A placed order of `lines` ((sku, qty) pairs) by the world's customer."""
    body = place_order(session, customer=w.customer, lines=list(lines), substitution=substitution)
    return uuid.UUID(body["id"])
