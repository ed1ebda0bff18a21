"""Wire shapes of the fleet: zones, vehicles, couriers, shifts, pings, routes, stop events, runs.

Every number is bounded and every string sized (DESIGN.md §8); inputs forbid unknown fields.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.auth.schemas import EMAIL_PATTERN
from dispatch.fleet_models import CourierStatus, ShiftStatus, VehicleKind
from dispatch.route_models import AssignmentState, PodPolicy, StopKind, StopStatus

MAX_PAGE = 100
MAX_PINGS = 500
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZoneIn(_In):
    code: Code
    name: Name
    location_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    require_accept: bool = False
    offer_timeout_s: int = Field(default=45, ge=10, le=600)
    adhoc_shift_minutes: int = Field(
        default=0, ge=0, le=720, description="Length of a shift a courier starts unplanned; 0: shifts must be planned."
    )


class ZoneOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    location_ids: list[uuid.UUID]
    require_accept: bool
    offer_timeout_s: int
    adhoc_shift_minutes: int


class VehicleIn(_In):
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    kind: VehicleKind
    capacity_units: int = Field(ge=1, le=200, description="Bags the vehicle carries at once.")
    capacity_kg: int = Field(ge=1, le=2000)
    cold_box: bool = False
    zone_id: uuid.UUID


class VehicleOut(BaseModel):
    id: uuid.UUID
    label: str
    kind: VehicleKind
    capacity_units: int
    capacity_kg: int
    cold_box: bool
    zone_id: uuid.UUID


class CourierIn(_In):
    email: str = Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN)
    password: Annotated[str, StringConstraints(min_length=10, max_length=128)]
    display_name: Name
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    zone_id: uuid.UUID


class Position(BaseModel):
    lat: float
    lon: float
    at: datetime


class CourierOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    zone_id: uuid.UUID
    display_name: str
    status: CourierStatus
    vehicle_id: uuid.UUID | None
    position: Position | None
    flagged_at: datetime | None
    flag_reason: str | None


class CourierPage(BaseModel):
    items: list[CourierOut]


class ShiftIn(_In):
    courier_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    vehicle_id: uuid.UUID | None = None


class ShiftOut(BaseModel):
    id: uuid.UUID
    courier_id: uuid.UUID
    planned_start: datetime
    planned_end: datetime
    status: ShiftStatus
    vehicle_id: uuid.UUID | None
    started_at: datetime | None
    ended_at: datetime | None
    courier_status: CourierStatus


class ShiftStartIn(_In):
    vehicle: uuid.UUID


class OfflineIn(_In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = "taken offline by an operator"


class OfflineOut(BaseModel):
    courier_id: uuid.UUID
    released: list[uuid.UUID] = Field(description="Orders not picked up yet: re-dispatched by the next cycle.")
    on_board: list[uuid.UUID] = Field(description="Orders picked up: flagged to operators.")


# --- pings --------------------------------------------------------------------------------------


class PingIn(_In):
    lat: Lat
    lon: Lon
    accuracy_m: float = Field(ge=0, le=100_000, allow_inf_nan=False)
    speed_mps: float | None = Field(default=None, ge=0, le=1000, allow_inf_nan=False)
    heading: float | None = Field(default=None, ge=0, le=360, allow_inf_nan=False)
    ts: datetime


class PingBatchIn(_In):
    pings: list[PingIn] = Field(min_length=1, max_length=MAX_PINGS)


class PingResult(BaseModel):
    accepted: int
    history_only: int = Field(description="Accepted but too old to broadcast (a batch after a dead zone).")
    dropped: dict[str, int] = Field(description="Dropped pings by reason.")


# --- route and stops ------------------------------------------------------------------------------


class StopOut(BaseModel):
    id: uuid.UUID
    seq: int
    kind: StopKind
    status: StopStatus
    order_id: uuid.UUID
    lat: float
    lon: float
    address: str
    note: str
    items: int
    bags: int | None
    planned_arrival_at: datetime | None
    planned_departure_at: datetime | None
    arrived_at: datetime | None
    completed_at: datetime | None
    offer: AssignmentState
    pod_policy: PodPolicy | None


class RouteOut(BaseModel):
    courier_id: uuid.UUID
    version: int
    status: CourierStatus
    stops: list[StopOut]


class PickedUpIn(_In):
    bags: int = Field(ge=1, le=50, description="Bags the courier took; must match what the store packed.")


Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class DeliveredIn(_In):
    pin: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = None
    photo_sha256: Sha256 | None = None
    signature: Annotated[str, StringConstraints(min_length=16, max_length=65_536)] | None = None


FailureReason = Literal["customer_absent", "address_not_found", "refused"]


class FailedIn(_In):
    reason: FailureReason
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""


class BreakIn(_In):
    on: bool = Field(description="true starts a break, false ends it.")


# --- operators ------------------------------------------------------------------------------------


class AssignIn(_In):
    courier: uuid.UUID


class RunOut(BaseModel):
    id: uuid.UUID
    zone_id: uuid.UUID
    policy: str
    started_at: datetime
    finished_at: datetime
    orders: int
    couriers: int
    read_s: float
    solve_s: float
    write_s: float
    objective: int
    travel_s: int
    lateness_s: int
    assigned: int
    moved: int
    unassigned: int
    stats: dict[str, Any]


class RunPage(BaseModel):
    items: list[RunOut]


class ExplanationOut(BaseModel):
    order_id: uuid.UUID
    run_id: uuid.UUID
    at: datetime
    courier_id: uuid.UUID | None
    eta_at: datetime | None
    detour_s: int | None
    decision: str
    details: dict[str, Any]
