"""The simulated city's cast, set up in the database before the clock starts: dispatch zones (one
per distribution centre's stores), vehicles, couriers with planned shifts, staff and customers.

Zones and vehicles go through the fleet use cases. Accounts are added as rows with one shared
password hash, as `o2o seed` does: argon2 is slow on purpose (~0.15 s a hash), and hashing for
300 accounts nobody ever signs in to would cost the run most of a minute.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy.orm import Session

from core.auth.models import Role, User
from core.auth.passwords import hash_password
from dispatch import couriers as fleet
from dispatch import shifts
from dispatch.fleet_models import Courier, CourierStatus, VehicleKind
from dispatch.fleet_schemas import ShiftIn, VehicleIn, ZoneIn
from simulations import rota
from simulations.scenarios import Scenario
from stores import service as stores
from stores.models import CUSTOMER_FACING, Location, LocationKind
from stores.schemas import LocationUpdate, PickCapacity
from warehouse import catalogue
from warehouse.models import TemperatureClass

SIM_DOMAIN = "sim.o2o.example"
CUSTOMERS = 200
# (kind, share of the fleet, bags, kg, share with a cold box)
VEHICLES = (("bike", 0.6, 4, 25, 0.5), ("scooter", 0.3, 6, 40, 0.6), ("car", 0.1, 12, 150, 1.0))


@dataclass(frozen=True, slots=True)
class Store:
    id: uuid.UUID
    code: str
    lat: float
    lon: float
    staff: int
    seconds_per_line: int
    pack_seconds: int
    parent_id: uuid.UUID | None
    zone_id: uuid.UUID
    staff_user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class CourierPlan:
    number: int
    courier_id: uuid.UUID
    user_id: uuid.UUID
    vehicle_id: uuid.UUID
    kind: VehicleKind
    zone_id: uuid.UUID
    home: tuple[float, float]  # where the shift starts
    base: tuple[float, float]  # the store an idle courier waits at
    shift_start_s: float
    shift_end_s: float
    takes_break: bool
    offline_at_s: float | None  # goes offline early (phone dead, calls it a day)


ZONE_PREFIX = "SIM-"


@dataclass
class World:
    stores: list[Store]
    zones: list[uuid.UUID]
    skus: list[uuid.UUID]  # most popular first
    customers: list[uuid.UUID]
    cold: set[uuid.UUID]  # chilled or frozen: packed in a cold bag
    shares: dict[uuid.UUID, float]  # each store's share of the orders (simulations.rota)
    couriers: list[CourierPlan] = field(default_factory=list)

    def store(self, location_id: uuid.UUID) -> Store | None:
        return next((s for s in self.stores if s.id == location_id), None)


def build(
    session: Session,
    scenario: Scenario,
    rng: random.Random,
    *,
    tag: str,
    password: str | None = None,
    live: bool = False,
) -> World:
    """Everything the run needs; `tag` keeps codes and e-mails unique when a database is reused.
    `password` lets people sign in as the simulated couriers (the demo's); random otherwise."""
    password_hash = hash_password(password or uuid.uuid4().hex)
    shops = _shops(session)
    if not shops:
        raise ValueError("the database holds no stores with service zones: seed a network first")
    if live:
        # An earlier live run (an earlier `make demo`) left its zones holding these stores.
        fleet.detach_locations(session, location_ids=[s.id for s in shops], zone_code_prefix=ZONE_PREFIX)
    by_parent: dict[uuid.UUID | None, list[Location]] = defaultdict(list)
    for shop in shops:
        # A distribution centre that also delivers joins the zone of the stores it supplies.
        key = shop.id if shop.kind is LocationKind.distribution_centre else shop.parent_id
        by_parent[key].append(shop)
    stores_out: list[Store] = []
    zones: list[uuid.UUID] = []
    groups = sorted(by_parent.values(), key=lambda members: min(m.code for m in members))
    for number, members in enumerate(groups, start=1):
        zone = fleet.create_zone(
            session,
            data=ZoneIn(
                code=f"{ZONE_PREFIX}{tag}-{number}",
                name=f"Simulated zone {number}",
                location_ids=[m.id for m in members],
            ),
        )
        zones.append(zone.id)
        if live:
            # Planned by the simulation in its own (faster) virtual time: beat's ticks, which
            # plan every active zone on the wall clock, leave these alone.
            fleet.get_zone(session, zone.id).active = False
        for m in members:
            staff = User(
                email=f"staff.{m.code.lower()}.{tag}@{SIM_DOMAIN}",
                password_hash=password_hash,
                role=Role.staff,
                display_name="Simulated picker",
                location_id=m.id,
            )
            session.add(staff)
            session.flush()
            stores_out.append(_store(m, zone.id, staff.id))
    shares = rota.demand_shares(stores_out, rng)
    stores_out = [_rostered(session, store, scenario, shares[store.id]) for store in stores_out]
    customers = [
        User(email=f"customer{n}.{tag}@{SIM_DOMAIN}", password_hash=password_hash, role=Role.customer)
        for n in range(CUSTOMERS)
    ]
    session.add_all(customers)
    session.flush()
    skus, cold = _catalogue(session, rng)
    world = World(stores_out, zones, skus, [c.id for c in customers], cold, shares)
    world.couriers = _couriers(session, scenario, rng, world, tag=tag, password_hash=password_hash)
    return world


def _shops(session: Session) -> list[Location]:
    shops: list[Location] = []
    for kind in sorted(CUSTOMER_FACING):
        page = stores.list_locations(session, kind=kind, active=True, limit=100)
        shops += [loc for loc in page.locations if loc.service_zone is not None]
    return sorted(shops, key=lambda loc: loc.code)


def _store(loc: Location, zone_id: uuid.UUID, staff_user_id: uuid.UUID) -> Store:
    return Store(
        id=loc.id,
        code=loc.code,
        lat=loc.lat,
        lon=loc.lon,
        staff=loc.pick_staff,
        seconds_per_line=loc.pick_seconds_per_line,
        pack_seconds=loc.pack_seconds,
        parent_id=loc.parent_id,
        zone_id=zone_id,
        staff_user_id=staff_user_id,
    )


def _rostered(session: Session, store: Store, scenario: Scenario, share: float) -> Store:
    """The store with the pickers its expected peak needs (never fewer than it had), written to
    the store's pick capacity so that checkout's promises count with the same staff."""
    needed = rota.pickers_needed(
        scenario, share, seconds_per_line=store.seconds_per_line, pack_seconds=store.pack_seconds
    )
    if needed <= store.staff:
        return store
    capacity = PickCapacity(staff=needed, seconds_per_line=store.seconds_per_line, pack_seconds=store.pack_seconds)
    stores.update_location(session, location_id=store.id, data=LocationUpdate(pick_capacity=capacity))
    return replace(store, staff=needed)


def _catalogue(session: Session, rng: random.Random) -> tuple[list[uuid.UUID], set[uuid.UUID]]:
    ids: list[uuid.UUID] = []
    cold: set[uuid.UUID] = set()
    offset = 0
    while True:
        page = catalogue.list_skus(session, active=True, limit=100, offset=offset)
        ids += [item.id for item in page.items]
        cold |= {item.id for item in page.items if item.temperature is not TemperatureClass.ambient}
        offset += len(page.items)
        if not page.items or offset >= page.total:
            break
    rng.shuffle(ids)  # popularity is the shuffled order: a Zipf curve over it (simulations.demand)
    return ids, cold


def _couriers(
    session: Session, scenario: Scenario, rng: random.Random, world: World, *, tag: str, password_hash: str
) -> list[CourierPlan]:
    """Couriers based at stores in proportion to their expected orders (simulations.rota), each
    with a vehicle and a planned shift."""
    homes = rota.courier_homes(world.stores, world.shares, scenario.couriers)
    windows = rota.shifts(scenario, homes, rng)
    plans = []
    for n, (home, (start_s, end_s)) in enumerate(zip(homes, windows, strict=True)):
        kind, units, kg, cold = _vehicle(rng)
        user = User(
            email=f"courier{n}.{tag}@{SIM_DOMAIN}",
            password_hash=password_hash,
            role=Role.courier,
            display_name=f"Courier {n + 1}",
        )
        session.add(user)
        session.flush()
        courier = Courier(user_id=user.id, zone_id=home.zone_id, status=CourierStatus.offline)
        session.add(courier)
        vehicle = fleet.create_vehicle(
            session,
            data=VehicleIn(
                label=f"SIM-{tag}-{n + 1}",
                kind=kind,
                capacity_units=units,
                capacity_kg=kg,
                cold_box=cold,
                zone_id=home.zone_id,
            ),
        )
        session.flush()
        shifts.plan_shift(
            session,
            data=ShiftIn(
                courier_id=courier.id,
                starts_at=scenario.start + timedelta(seconds=start_s),
                ends_at=scenario.start + timedelta(seconds=end_s),
                vehicle_id=vehicle.id,
            ),
        )
        offline = rng.random() < scenario.offline_share
        plans.append(
            CourierPlan(
                number=n,
                courier_id=courier.id,
                user_id=user.id,
                vehicle_id=vehicle.id,
                kind=kind,
                zone_id=home.zone_id,
                home=(home.lat + rng.uniform(-0.004, 0.004), home.lon + rng.uniform(-0.006, 0.006)),
                base=(home.lat, home.lon),
                shift_start_s=start_s,
                shift_end_s=end_s,
                takes_break=end_s - start_s > 4 * 3600 and rng.random() < scenario.break_share,
                offline_at_s=rng.uniform(start_s, end_s) if offline else None,
            )
        )
    return plans


def _vehicle(rng: random.Random) -> tuple[VehicleKind, int, int, bool]:
    draw = rng.random()
    for kind, share, units, kg, cold_share in VEHICLES:
        if draw < share:
            return VehicleKind(kind), units, kg, rng.random() < cold_share
        draw -= share
    kind, _share, units, kg, _cold = VEHICLES[-1]
    return VehicleKind(kind), units, kg, True
