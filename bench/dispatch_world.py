"""The dispatch benchmark's city: stores of one zone, packed orders around them, couriers on shift.

Rows go in through the ORM (every default and CHECK of the real schema applies); the orders are
written as already packed, which is what the dispatch cycle sees in production.
"""

from __future__ import annotations

import math
import random
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session

from core.auth.models import Role, User
from dispatch.fleet_models import (
    Courier,
    CourierStatus,
    DispatchZone,
    DispatchZoneLocation,
    FleetVehicle,
    Shift,
    ShiftStatus,
    VehicleKind,
)
from dispatch.models import (
    FulfilmentStatus,
    Order,
    OrderFulfilment,
    OrderStatus,
    PaymentStatus,
    PlanKind,
    SubstitutionPolicy,
)
from dispatch.route_models import CourierRoute, DispatchExplanation, OrderAssignment, RouteStop
from routing.travel import METRES_PER_DEGREE
from stores.models import Location, LocationKind

CENTRE = (52.52, 13.405)
CITY_KM = 8.0
STORES = 15


def _offset(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    return lat + north_m / METRES_PER_DEGREE, lon + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat)))


def populate(session: Session, *, orders: int, couriers: int, now: datetime, seed: int = 7) -> uuid.UUID:
    """One zone with STORES stores, `orders` packed orders and `couriers` couriers; the zone id."""
    rng = random.Random(seed)
    zone = DispatchZone(code=f"BENCH-{orders}-{couriers}", name="Bench zone")
    customer = User(email=f"bench-{uuid.uuid4().hex[:8]}@example.test", password_hash="x", role=Role.customer)
    session.add_all([zone, customer])
    session.flush()
    half = CITY_KM * 500
    stores = []
    for i in range(STORES):
        lat, lon = _offset(*CENTRE, rng.uniform(-half, half), rng.uniform(-half, half))
        stores.append(
            Location(code=f"BD-{zone.id.hex[:6]}-{i}", name=f"Store {i}", kind=LocationKind.store, lat=lat, lon=lon)
        )
    session.add_all(stores)
    session.flush()
    session.add_all(DispatchZoneLocation(location_id=s.id, zone_id=zone.id) for s in stores)
    for i in range(orders):
        store = rng.choice(stores)
        lat, lon = _offset(store.lat, store.lon, rng.uniform(-2500, 2500), rng.uniform(-2500, 2500))
        ready = now + timedelta(seconds=rng.randint(-600, 600))
        promised = ready + timedelta(minutes=rng.randint(25, 50))
        order = Order(
            customer_id=customer.id,
            status=OrderStatus.packed,
            substitution=SubstitutionPolicy.refund,
            plan=PlanKind.single,
            dropoff_lat=lat,
            dropoff_lon=lon,
            address=f"Bench street {i}",
            currency="EUR",
            subtotal_minor=2000,
            delivery_fee_minor=299,
            total_minor=2299,
            authorized_minor=2299,
            payment_status=PaymentStatus.authorized,
            payment_provider="simulated",
            payment_ref=f"bench-{i}",
            promised_from=promised - timedelta(minutes=20),
            promised_to=promised,
            explanation={},
            placed_at=now - timedelta(minutes=20),
            accepted_at=now - timedelta(minutes=19),
            picking_at=now - timedelta(minutes=15),
            packed_at=min(ready, now),
        )
        session.add(order)
        session.flush()
        session.add(
            OrderFulfilment(
                order_id=order.id,
                location_id=store.id,
                status=FulfilmentStatus.packed,
                queue_wait_s=0,
                pick_s=300,
                travel_s=900,
                line_count=3,
                courier_expected_at=ready,
                ready_at=ready,
                bags=rng.choice((1, 1, 1, 2)),
                cold_chain=False,
            )
        )
    for i in range(couriers):
        user = User(email=f"bench-c{i}-{uuid.uuid4().hex[:6]}@example.test", password_hash="x", role=Role.courier)
        kind = VehicleKind.scooter if i % 3 == 0 else VehicleKind.bike
        vehicle = FleetVehicle(
            label=f"B-{zone.id.hex[:6]}-{i}",
            kind=kind,
            capacity_units=4,
            capacity_kg=25,
            cold_box=True,
            zone_id=zone.id,
        )
        session.add_all([user, vehicle])
        session.flush()
        lat, lon = _offset(*CENTRE, rng.uniform(-half, half), rng.uniform(-half, half))
        courier = Courier(
            user_id=user.id,
            zone_id=zone.id,
            status=CourierStatus.available,
            vehicle_id=vehicle.id,
            last_lat=lat,
            last_lon=lon,
            last_seen_at=now,
        )
        session.add(courier)
        session.flush()
        shift = Shift(
            courier_id=courier.id,
            planned_start=now - timedelta(hours=1),
            planned_end=now + timedelta(hours=4),
            status=ShiftStatus.active,
            started_at=now - timedelta(hours=1),
            vehicle_id=vehicle.id,
        )
        session.add(shift)
        session.flush()
        session.add(CourierRoute(courier_id=courier.id, shift_id=shift.id))
    session.flush()
    return zone.id


def reset(session: Session, zone_id: uuid.UUID) -> None:
    """Undo a cycle: no stops, no assignments, every order packed again, every courier free."""
    session.execute(delete(RouteStop))
    session.execute(delete(OrderAssignment))
    session.execute(delete(DispatchExplanation))
    session.execute(
        update(Order).where(Order.status == OrderStatus.assigned).values(status=OrderStatus.packed, assigned_at=None)
    )
    session.execute(update(Courier).where(Courier.zone_id == zone_id).values(status=CourierStatus.available))
    session.execute(text("UPDATE courier_routes SET version = 0"))
