"""Typed factories for test data: realistic defaults, every field overridable."""

from __future__ import annotations

import itertools
import uuid
from functools import lru_cache
from typing import Any

from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.models import Role, User
from core.auth.passwords import hash_password
from core.auth.tokens import Principal, issue_token
from core.settings import get_settings
from stores.models import Location, LocationKind
from warehouse.ledger import Level, move
from warehouse.models import Category, MovementKind, Sku, TemperatureClass

DEFAULT_PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@lru_cache(maxsize=16)
def _hash(password: str) -> str:
    # argon2 is deliberately slow; tests reuse one hash per distinct password.
    return hash_password(password)


def create_user(
    session: Session,
    *,
    role: Role = Role.customer,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    location_id: uuid.UUID | None = None,
    active: bool = True,
    display_name: str | None = None,
) -> User:
    n = next(_counter)
    user = User(
        email=(email or f"{role.value}{n}-{uuid.uuid4().hex[:6]}@example.test").lower(),
        password_hash=_hash(password),
        role=role,
        display_name=display_name or f"{role.value.title()} {n}",
        location_id=location_id,
        active=active,
    )
    session.add(user)
    session.flush()
    return user


def token_for(user: User, *, ttl_s: int | None = None) -> str:
    return issue_token(Principal(user.id, user.role, user.location_id), get_settings(), ttl_s=ttl_s)


def auth_headers(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user)}"}


# --- network and stock ------------------------------------------------------------------------


def square_zone(lat: float, lon: float, half_side_deg: float = 0.02) -> dict[str, Any]:
    """A GeoJSON MultiPolygon square around a point (counter-clockwise, closed)."""
    d = half_side_deg
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]
    return {"type": "MultiPolygon", "coordinates": [[ring]]}


def create_location(
    session: Session,
    *,
    kind: LocationKind = LocationKind.store,
    lat: float = 52.52,
    lon: float = 13.405,
    zone: dict[str, Any] | None = None,
    with_zone: bool = True,
    parent: Location | None = None,
    code: str | None = None,
    active: bool = True,
    pick_staff: int = 2,
) -> Location:
    n = next(_counter)
    geojson = zone if zone is not None else (square_zone(lat, lon) if with_zone else None)
    location = Location(
        code=code or f"{kind.value[:3].upper()}-{n}-{uuid.uuid4().hex[:4]}",
        name=f"{kind.value.replace('_', ' ').title()} {n}",
        kind=kind,
        lat=lat,
        lon=lon,
        service_zone=f"SRID=4326;{shape(geojson).wkt}" if geojson else None,
        parent_id=parent.id if parent else None,
        opening_hours={},
        active=active,
        pick_staff=pick_staff,
    )
    session.add(location)
    session.flush()
    return location


def create_category(session: Session, *, slug: str | None = None, parent: Category | None = None) -> Category:
    n = next(_counter)
    category = Category(
        slug=slug or f"cat-{n}-{uuid.uuid4().hex[:4]}", name=f"Category {n}", parent_id=parent.id if parent else None
    )
    session.add(category)
    session.flush()
    return category


def create_sku(
    session: Session,
    *,
    category: Category | None = None,
    price_minor: int = 249,
    temperature: TemperatureClass = TemperatureClass.ambient,
    max_order_qty: int = 20,
    code: str | None = None,
) -> Sku:
    n = next(_counter)
    sku = Sku(
        code=code or f"SKU-{n}-{uuid.uuid4().hex[:6]}",
        name=f"Product {n}",
        category_id=(category or create_category(session)).id,
        price_minor=price_minor,
        weight_g=500,
        volume_ml=750,
        temperature=temperature,
        max_order_qty=max_order_qty,
    )
    session.add(sku)
    session.flush()
    return sku


def stock(
    session: Session,
    location: Location,
    sku: Sku,
    on_hand: int,
    *,
    reorder_point: int = 0,
    target_level: int = 0,
) -> Level:
    """Put stock on a shelf the way a real receipt does (so the ledger replays to the level)."""
    session.execute(
        text(
            "INSERT INTO stock_levels (location_id, sku_id, on_hand, reserved, reorder_point, target_level, bin,"
            " updated_at) VALUES (:l, :s, 0, 0, :rp, :tl, '', now())"
            " ON CONFLICT (location_id, sku_id) DO UPDATE SET reorder_point = :rp, target_level = :tl"
        ),
        {"l": location.id, "s": sku.id, "rp": reorder_point, "tl": target_level},
    )
    if on_hand == 0:
        return Level(0, 0)
    return move(
        session,
        location_id=location.id,
        sku_id=sku.id,
        kind=MovementKind.receipt,
        on_hand_delta=on_hand,
        reason="test stock",
    )


# --- orders --------------------------------------------------------------------------------------


def place_order(
    session: Session,
    *,
    customer: User,
    lines: list[tuple[Sku, int]],
    lat: float = 52.52,
    lon: float = 13.405,
    substitution: str = "refund",
    payment_method: str = "card",
    key: str | None = None,
) -> dict[str, Any]:
    """An order placed through the real checkout (candidates, reservation, payment); returns the
    checkout's response body."""
    from dispatch.checkout import checkout
    from dispatch.schemas import CheckoutIn

    data = CheckoutIn.model_validate(
        {
            "dropoff": {"lat": lat, "lon": lon},
            "address": "Torstraße 1, Berlin",
            "lines": [{"sku": str(sku.id), "qty": qty} for sku, qty in lines],
            "substitution": substitution,
            "payment_method": payment_method,
        }
    )
    result = checkout(session, customer_id=customer.id, idempotency_key=key or uuid.uuid4().hex, data=data)
    return result.body
