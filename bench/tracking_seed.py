"""The tracking benchmark's city: one zone, one customer, `orders` picked-up orders carried by
couriers `per_courier` at a time, written set-based (a real checkout per order would take longer
than the benchmark itself, and the socket path does not care how an order was placed)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from core import clock
from core.auth.models import Role, User
from core.auth.tokens import Principal, issue_token
from core.db import make_engine
from core.settings import Settings
from dispatch.fleet_models import Courier, CourierStatus, DispatchZone
from dispatch.models import Order, OrderStatus, PaymentStatus, PlanKind, SubstitutionPolicy
from dispatch.route_models import AssignmentState, OrderAssignment, PodPolicy

CENTRE = (52.52, 13.405)
TOKEN_TTL_S = 6 * 3600


@dataclass(frozen=True)
class City:
    customer_token: str
    orders: list[str]  # order i is carried by courier i // per_courier
    courier_tokens: list[str]
    per_courier: int


def seed(url: str, settings: Settings, *, orders: int, per_courier: int) -> City:
    couriers = -(-orders // per_courier)
    now = clock.now()
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with Session(engine) as session, session.begin():
            zone = DispatchZone(code="BENCH-TRACK", name="Bench tracking")
            customer = _user(Role.customer, "customer")
            session.add_all([zone, customer])
            session.flush()
            users = [_user_row(Role.courier, f"courier-{i}") for i in range(couriers)]
            session.execute(insert(User), users)
            courier_rows = [_courier_row(u["id"], zone.id, i) for i, u in enumerate(users)]
            session.execute(insert(Courier), courier_rows)
            order_rows = [_order_row(customer.id, i, now) for i in range(orders)]
            session.execute(insert(Order), order_rows)
            session.execute(
                insert(OrderAssignment),
                [
                    {
                        "order_id": o["id"],
                        "courier_id": courier_rows[i // per_courier]["id"],
                        "state": AssignmentState.confirmed,
                        "pinned": False,
                        "pod_policy": PodPolicy.any,
                        "attempts": 0,
                        "since": now,
                    }
                    for i, o in enumerate(order_rows)
                ],
            )
            customer_token = issue_token(Principal(customer.id, Role.customer), settings, ttl_s=TOKEN_TTL_S)
    finally:
        engine.dispose()
    return City(
        customer_token=customer_token,
        orders=[str(o["id"]) for o in order_rows],
        courier_tokens=[issue_token(Principal(u["id"], Role.courier), settings, ttl_s=TOKEN_TTL_S) for u in users],
        per_courier=per_courier,
    )


def _user(role: Role, name: str) -> User:
    return User(**_user_row(role, name))


def _user_row(role: Role, name: str) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "email": f"{name}-{uuid.uuid4().hex[:8]}@bench.invalid",
        "password_hash": "!bench-no-login",
        "role": role,
        "display_name": name,
        "active": True,
        "created_at": clock.now(),
    }


def _courier_row(user_id: uuid.UUID, zone_id: uuid.UUID, i: int) -> dict[str, Any]:
    lat, lon = _spot(i)
    return {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "zone_id": zone_id,
        "status": CourierStatus.offline,  # pings do not need a shift; on shift would need a vehicle
        "last_lat": lat,
        "last_lon": lon,
        # Long enough ago that the first bench ping is in order and not "too fast".
        "last_seen_at": clock.now() - timedelta(minutes=10),
    }


def _order_row(customer_id: uuid.UUID, i: int, at: datetime) -> dict[str, Any]:
    lat, lon = _spot(i + 7)
    return {
        "id": uuid.uuid4(),
        "customer_id": customer_id,
        "status": OrderStatus.picked_up,
        "substitution": SubstitutionPolicy.refund,
        "plan": PlanKind.single,
        "dropoff_lat": lat,
        "dropoff_lon": lon,
        "address": f"Bench street {i}",
        "currency": "EUR",
        "subtotal_minor": 1000,
        "delivery_fee_minor": 0,
        "total_minor": 1000,
        "authorized_minor": 1000,
        "payment_status": PaymentStatus.authorized,
        "payment_provider": "bench",
        "payment_ref": f"bench-{i}",
        "promised_from": at,
        "promised_to": at + timedelta(hours=3),  # never late: no delay notices in the way
        "explanation": {},
        "placed_at": at,
        "assigned_at": at,
        "picked_up_at": at,
    }


def _spot(i: int) -> tuple[float, float]:
    """Points spread over a few kilometres around the centre, deterministic per index."""
    return CENTRE[0] + ((i * 37) % 100 - 50) / 2000, CENTRE[1] + ((i * 53) % 100 - 50) / 2000
