"""A realistic, reproducible network for the demo, the simulation and tests.

One central warehouse outside town, 2–3 distribution centres on the edge, 10–20 stores and dark
stores on a jittered hexagonal lattice whose round service zones overlap at the edges and cover
the city; a few hundred SKUs in a category tree; opening stock at every tier (received through
the ledger, so it replays to the levels); demo accounts. Everything random is drawn from one
`random.Random(seed)`, so a seed always gives the same network.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from core.auth.models import Role, User
from core.auth.passwords import hash_password
from core.errors import Conflict, InvalidInput
from o2o.models import Base
from o2o.seed_city import City, circle, city_for, lattice
from o2o.seed_data import MAX_SKUS, PLACES
from o2o.seed_stock import SeedProgress, catalogue, opening_stock
from stores import service as stores
from stores.hours import DAYS
from stores.models import CUSTOMER_FACING, Location, LocationKind
from stores.schemas import LocationCreate, PickCapacity, PositionIn
from warehouse.models import Category, Sku

DEFAULT_TIMEZONE = "Europe/Berlin"
DEMO_PASSWORD = "o2o-demo-pass"
DEMO_DOMAIN = "o2o.example"
MIN_ZONE_RADIUS_M = 500.0
CUSTOMERS = 5


class NetworkAlreadySeeded(Conflict):
    code = "network_exists"


class _Silent:
    def step(self, description: str, total: int | None = None) -> None:
        del description, total

    def advance(self, amount: int = 1) -> None:
        del amount


@dataclass
class SeedReport:
    seed: int
    center: tuple[float, float]
    bbox: tuple[float, float, float, float]  # south, west, north, east
    timezone: str
    locations: Counter[str] = field(default_factory=Counter)
    zones: int = 0
    categories: int = 0
    skus: int = 0
    stock_levels: int = 0
    users: Counter[str] = field(default_factory=Counter)
    logins: list[tuple[str, str]] = field(default_factory=list)  # (role, e-mail) worth trying first
    demo_password: str = DEMO_PASSWORD


# --- the network -------------------------------------------------------------------------------


def _hours(kind: LocationKind, rng: random.Random) -> dict[str, list[list[str]]]:
    if kind is LocationKind.dark_store:
        return {day: [["06:00", "24:00"]] for day in DAYS}
    if kind is LocationKind.store:
        week = {day: [["07:00", "22:00"]] for day in DAYS[:6]}
        return {**week, "sun": [["10:00", "18:00"]] if rng.random() < 0.5 else []}
    return {}  # warehouses and distribution centres work around the clock


def _capacity(kind: LocationKind, rng: random.Random) -> PickCapacity:
    if kind is LocationKind.dark_store:
        return PickCapacity(
            staff=rng.randint(4, 8), seconds_per_line=rng.randint(12, 20), pack_seconds=rng.randint(30, 50)
        )
    if kind is LocationKind.store:
        return PickCapacity(
            staff=rng.randint(2, 4), seconds_per_line=rng.randint(25, 40), pack_seconds=rng.randint(45, 90)
        )
    return PickCapacity(staff=rng.randint(6, 20), seconds_per_line=20, pack_seconds=60)


@dataclass(frozen=True, slots=True)
class _Context:
    city: City
    rng: random.Random
    timezone: str
    progress: SeedProgress


def _add(
    session: Session,
    context: _Context,
    *,
    code: str,
    name: str,
    kind: LocationKind,
    east_m: float,
    north_m: float,
    parent: Location | None,
    zone_radius_m: float | None = None,
) -> Location:
    """One location through the same use cases an operator's request goes through."""
    rng, point = context.rng, context.city.at(east_m, north_m)
    data = LocationCreate(
        code=code,
        name=name,
        kind=kind,
        position=PositionIn(lat=point.lat, lon=point.lon),
        parent_id=parent.id if parent else None,
        address=f"{rng.randint(1, 180)} {name.rsplit(' ', 1)[0]} Road",
        timezone=context.timezone,
        opening_hours=_hours(kind, rng),
        pick_capacity=_capacity(kind, rng),
    )
    location = stores.create_location(session, data=data)
    if zone_radius_m is not None:
        zone = circle(context.city, east_m, north_m, zone_radius_m, rng)
        stores.set_zone(session, location_id=location.id, geojson=zone)
    context.progress.advance()
    return location


def _network(session: Session, context: _Context) -> list[Location]:
    city, rng = context.city, context.rng
    dc_count, store_count = rng.randint(2, 3), rng.randint(10, 20)
    context.progress.step("Placing locations and service zones", 1 + dc_count + store_count)
    points, spacing = lattice(city, store_count)
    # 0.9 × spacing is well beyond the lattice's covering radius (spacing / √3) plus the jitter,
    # so neighbouring zones overlap and together leave no gap inside the city.
    radius = max(MIN_ZONE_RADIUS_M, 0.9 * spacing)
    bearing = rng.uniform(0, 2 * math.pi)
    places = rng.sample(PLACES, dc_count + store_count)
    # Outside town, where land is cheap and trucks get in and out.
    central = _add(
        session,
        context,
        code="CW-01",
        name="Central Warehouse",
        kind=LocationKind.central_warehouse,
        east_m=1.3 * city.half_width_m * math.cos(bearing),
        north_m=1.3 * city.half_height_m * math.sin(bearing),
        parent=None,
    )
    dcs: list[tuple[Location, float, float]] = []
    for i in range(dc_count):
        angle = bearing + math.pi + 2 * math.pi * i / dc_count
        east, north = 0.75 * city.half_width_m * math.cos(angle), 0.75 * city.half_height_m * math.sin(angle)
        dc = _add(
            session,
            context,
            code=f"DC-{i + 1:02d}",
            name=f"{places.pop()} Distribution Centre",
            kind=LocationKind.distribution_centre,
            east_m=east,
            north_m=north,
            parent=central,
            zone_radius_m=radius,
        )
        dcs.append((dc, east, north))
    # About a third dark stores (at least two), the rest high-street stores.
    dark = set(rng.sample(range(store_count), max(2, store_count // 3)))
    numbers: Counter[LocationKind] = Counter()
    shops = []
    for i, (x, y) in enumerate(points):
        # A little jitter so the grid does not look drawn with a ruler, but never out of town.
        east = max(-city.half_width_m, min(city.half_width_m, x + rng.uniform(-0.1, 0.1) * spacing))
        north = max(-city.half_height_m, min(city.half_height_m, y + rng.uniform(-0.1, 0.1) * spacing))
        kind = LocationKind.dark_store if i in dark else LocationKind.store
        numbers[kind] += 1
        prefix, label = ("DS", "Dark Store") if kind is LocationKind.dark_store else ("ST", "Store")
        shops.append(
            _add(
                session,
                context,
                code=f"{prefix}-{numbers[kind]:02d}",
                name=f"{places.pop()} {label}",
                kind=kind,
                east_m=east,
                north_m=north,
                parent=min(dcs, key=lambda d: math.hypot(d[1] - east, d[2] - north))[0],
                zone_radius_m=radius * rng.uniform(0.95, 1.05),
            )
        )
    return [central, *(dc for dc, _e, _n in dcs), *shops]


# --- people ------------------------------------------------------------------------------------


def _users(session: Session, network: list[Location], report: SeedReport, progress: SeedProgress) -> None:
    shops = [loc for loc in network if loc.kind in (LocationKind.store, LocationKind.dark_store)]
    progress.step("Creating demo accounts", 2 + len(shops) + CUSTOMERS)
    # argon2 is slow on purpose; every demo account shares one password, so hash it once.
    password_hash = hash_password(DEMO_PASSWORD)
    people: list[tuple[Role, str, str, uuid.UUID | None]] = [
        (Role.admin, "admin", "Ada Admin", None),
        (Role.dispatcher, "dispatcher", "Dana Dispatcher", None),
    ]
    people += [(Role.staff, f"staff.{loc.code.lower()}", f"{loc.name} staff", loc.id) for loc in shops]
    people += [(Role.customer, f"customer{n}", f"Customer {n}", None) for n in range(1, CUSTOMERS + 1)]
    for role, local_part, display_name, location_id in people:
        email = f"{local_part}@{DEMO_DOMAIN}"
        session.add(
            User(
                email=email, password_hash=password_hash, role=role, display_name=display_name, location_id=location_id
            )
        )
        report.users[role.value] += 1
        if report.users[role.value] == 1:
            report.logins.append((role.value, email))
        progress.advance()
    session.flush()


# --- the whole run -----------------------------------------------------------------------------


def network_exists(session: Session) -> bool:
    has_locations = session.scalar(select(func.count()).select_from(Location)) or 0
    has_skus = session.scalar(select(func.count()).select_from(Sku)) or 0
    return bool(has_locations or has_skus)


def wipe(session: Session) -> None:
    """Delete the network, catalogue, stock and everything that refers to them, plus staff and demo
    accounts. Other accounts stay. Children before parents; users before the locations staff
    belong to (that foreign key lives only in the migrations, so the models cannot order it)."""
    keep = {"users", "outbox_events", Location.__tablename__}
    for table in reversed(Base.metadata.sorted_tables):
        if table.name not in keep:
            session.execute(delete(table))
    session.execute(delete(User).where(or_(User.location_id.is_not(None), User.email.like(f"%@{DEMO_DOMAIN}"))))
    # Leaves before their parents, as the self-reference is ON DELETE RESTRICT.
    session.execute(update(Location).values(parent_id=None))
    session.execute(delete(Location))
    session.flush()


# The catalogue's size when the caller does not say.
DEFAULT_SKUS = 300


def seed(
    session: Session,
    *,
    seed: int,
    center: tuple[float, float] | None,
    osm: Path | None,
    skus: int = DEFAULT_SKUS,
    timezone: str | None = None,
    reset: bool = False,
    progress: SeedProgress | None = None,
) -> SeedReport:
    """Create the demo network in the caller's transaction (flushes, never commits)."""
    if center is not None and osm is not None:
        raise InvalidInput("Give a centre or an OSM file, not both.", code="seed_conflicting_options")
    if not 1 <= skus <= MAX_SKUS:
        raise InvalidInput(f"skus must be 1–{MAX_SKUS}.", code="seed_invalid_skus")
    progress = progress or _Silent()
    if network_exists(session):
        if not reset:
            raise NetworkAlreadySeeded(
                "The database already holds a network or catalogue; run again with --reset to replace it."
            )
        progress.step("Wiping the existing network")
        wipe(session)
    city = city_for(center, osm)
    zone_name = timezone or (DEFAULT_TIMEZONE if center is None and osm is None else "UTC")
    rng = random.Random(seed)
    report = SeedReport(seed=seed, center=(city.center.lat, city.center.lon), bbox=city.bbox, timezone=zone_name)
    network = _network(session, _Context(city=city, rng=rng, timezone=zone_name, progress=progress))
    report.locations.update(loc.kind.value for loc in network)
    report.zones = sum(1 for loc in network if loc.kind in CUSTOMER_FACING)
    skus_made = catalogue(session, rng, skus, progress)
    report.categories = session.scalar(select(func.count()).select_from(Category)) or 0
    report.skus = len(skus_made)
    report.stock_levels = opening_stock(session, network, skus_made, rng, progress)
    _users(session, network, report, progress)
    session.flush()
    return report
