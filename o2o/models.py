"""The whole schema in one place: every mapped model, and what Alembic must leave alone.

Alembic's env.py and the drift test both import this, so they compare the same thing.
"""

from __future__ import annotations

from typing import Any

from geoalchemy2 import alembic_helpers

from core.auth.models import User
from core.db import Base
from core.events import OutboxEvent
from core.payments import SimulatedPaymentEntry
from dispatch.fleet_models import Courier, CourierPosition, DispatchZone, DispatchZoneLocation, FleetVehicle, Shift
from dispatch.models import IdempotencyKey, Order, OrderFulfilment, OrderLine
from dispatch.notifications_models import Notification
from dispatch.route_models import CourierRoute, DispatchExplanation, DispatchRun, OrderAssignment, RouteStop
from stores.models import Location
from warehouse.models import (
    Category,
    Sku,
    StockAlert,
    StockLevel,
    StockMovement,
    StockReservation,
    Transfer,
    TransferLine,
)

__all__ = [
    "Base",
    "Category",
    "Courier",
    "CourierPosition",
    "CourierRoute",
    "DispatchExplanation",
    "DispatchRun",
    "DispatchZone",
    "DispatchZoneLocation",
    "FleetVehicle",
    "IdempotencyKey",
    "Location",
    "Notification",
    "Order",
    "OrderAssignment",
    "OrderFulfilment",
    "OrderLine",
    "OutboxEvent",
    "RouteStop",
    "Shift",
    "SimulatedPaymentEntry",
    "Sku",
    "StockAlert",
    "StockLevel",
    "StockMovement",
    "StockReservation",
    "Transfer",
    "TransferLine",
    "User",
    "include_object",
]

# Tables and schemas that PostGIS (and its optional extensions) own; never ours to create or drop.
POSTGIS_TABLES = {"spatial_ref_sys", "geometry_columns", "geography_columns", "layer", "topology"}
POSTGIS_SCHEMAS = {"tiger", "tiger_data", "topology"}
# Foreign keys that the migrations add but the models cannot declare, because the kernel's
# `users` table must not know the stores domain that `location_id` points into.
MIGRATION_ONLY_FOREIGN_KEYS = {"fk_users_location_id_locations"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "foreign_key_constraint" and name in MIGRATION_ONLY_FOREIGN_KEYS:
        return False
    if type_ == "table" and (name in POSTGIS_TABLES or getattr(obj, "schema", None) in POSTGIS_SCHEMAS):
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))  # type: ignore[no-untyped-call]
