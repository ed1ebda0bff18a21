"""What the catalogue, stock levels, the ledger and reservations look like going in and out.

Every number is bounded and every list and string has a maximum length, so no input can make a
use case allocate, lock or loop without limit (DESIGN.md §8). Staff and ops edges use these
models as their wire schemas.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from warehouse.models import MovementKind, ReservationStatus, TemperatureClass

# One movement moves at most this many units: more is a typo, not a delivery.
MAX_QTY = 1_000_000
# Levels are 32-bit counters; keep well inside them so no sum can overflow.
MAX_LEVEL = 1_000_000_000
MAX_LINES = 200
MAX_PAGE = 100
MAX_OFFSET = 1_000_000
MAX_TTL_S = 30 * 24 * 3600
MAX_CATEGORY_DEPTH = 8

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", min_length=1, max_length=64)]
SkuCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", min_length=1, max_length=40)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# A reason is what an auditor reads in the ledger a year later: "damaged", not "".
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Qty = Annotated[int, Field(ge=1, le=MAX_QTY)]
PickSequence = Annotated[int, Field(ge=0, le=1_000_000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- catalogue ---------------------------------------------------------------------------------


class CategoryCreate(_In):
    slug: Slug
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    parent_id: uuid.UUID | None = None
    pick_sequence: PickSequence = 0


class CategoryUpdate(_In):
    """Only the fields sent change; `"parent_id": null` moves the category to the root."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None
    parent_id: uuid.UUID | None = None
    pick_sequence: PickSequence | None = None


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    parent_id: uuid.UUID | None
    pick_sequence: int


class CategoryNode(CategoryOut):
    sku_count: int = 0
    children: list[CategoryNode] = Field(default_factory=list)


class SkuCreate(_In):
    code: SkuCode
    name: Name
    category_id: uuid.UUID
    price_minor: int = Field(ge=0, le=100_000_000)
    currency: Currency = "EUR"
    weight_g: int = Field(ge=1, le=1_000_000)
    volume_ml: int = Field(ge=1, le=10_000_000)
    temperature: TemperatureClass = TemperatureClass.ambient
    perishable: bool = False
    max_order_qty: int = Field(default=20, ge=1, le=999)
    active: bool = True


class SkuUpdate(_In):
    """Only the fields sent change. The code is printed on labels and never changes."""

    name: Name | None = None
    category_id: uuid.UUID | None = None
    price_minor: int | None = Field(default=None, ge=0, le=100_000_000)
    currency: Currency | None = None
    weight_g: int | None = Field(default=None, ge=1, le=1_000_000)
    volume_ml: int | None = Field(default=None, ge=1, le=10_000_000)
    temperature: TemperatureClass | None = None
    perishable: bool | None = None
    max_order_qty: int | None = Field(default=None, ge=1, le=999)
    active: bool | None = None


class SkuOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    category_id: uuid.UUID
    price_minor: int
    currency: str
    weight_g: int
    volume_ml: int
    temperature: TemperatureClass
    perishable: bool
    max_order_qty: int
    active: bool
    created_at: datetime
    updated_at: datetime


class SkuPage(BaseModel):
    items: list[SkuOut]
    total: int
    limit: int
    offset: int


# --- stock operations ------------------------------------------------------------------------------


class ReceiptLineIn(_In):
    sku_id: uuid.UUID
    qty: Qty


class ReceiptIn(_In):
    """Goods booked in at the door (a supplier delivery, not a transfer: those are received on
    the transfer so both ends stay linked)."""

    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=MAX_LINES)
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""


class AdjustmentIn(_In):
    delta: int = Field(ge=-MAX_QTY, le=MAX_QTY)
    reason: Reason

    @model_validator(mode="after")
    def _moves_something(self) -> Self:
        if self.delta == 0:
            raise ValueError("delta must not be 0")
        return self


class CountIn(_In):
    counted: int = Field(ge=0, le=MAX_LEVEL)
    reason: Reason = "cycle count"


class WriteOffIn(_In):
    qty: Qty
    reason: Reason


class PolicyIn(_In):
    reorder_point: int = Field(ge=0, le=MAX_LEVEL)
    target_level: int = Field(ge=0, le=MAX_LEVEL)
    bin: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.target_level < self.reorder_point:
            raise ValueError("target_level must be at least reorder_point")
        return self


# --- stock views -----------------------------------------------------------------------------------


class LevelOut(BaseModel):
    """One (location, SKU) as people need it. `reserved` counts live holds only: reservations
    past their expiry are `expired_pending` (the sweeper will release them) and already count as
    available, because an expired hold must never block a sale."""

    location_id: uuid.UUID
    sku_id: uuid.UUID
    sku_code: str
    sku_name: str
    on_hand: int
    reserved: int
    expired_pending: int
    available: int
    in_transit: int
    reorder_point: int
    target_level: int
    bin: str
    low: bool


class LevelPage(BaseModel):
    items: list[LevelOut]
    total: int
    limit: int
    offset: int


class StockChangeOut(BaseModel):
    level: LevelOut
    on_hand_delta: int


class StockTotals(BaseModel):
    on_hand: int = 0
    reserved: int = 0
    available: int = 0
    in_transit: int = 0
    locations: int = 0


class TierTotals(StockTotals):
    tier: int
    kinds: list[str]


class LocationLevelOut(BaseModel):
    location_id: uuid.UUID
    location_code: str
    location_name: str
    kind: str
    tier: int
    on_hand: int
    reserved: int
    expired_pending: int
    available: int
    in_transit: int
    reorder_point: int
    target_level: int
    low: bool


class SkuStockOut(BaseModel):
    """One SKU across the network: totals, per tier (0 = central warehouse) and per location."""

    sku: SkuOut
    totals: StockTotals
    tiers: list[TierTotals]
    locations: list[LocationLevelOut]
    total_locations: int
    limit: int
    offset: int


class MovementOut(BaseModel):
    id: int
    location_id: uuid.UUID
    sku_id: uuid.UUID
    sku_code: str
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int
    reason: str
    ref_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    created_at: datetime


class LedgerPage(BaseModel):
    """Newest first. Pass `next_cursor` back as `before` for the next page; null means the end."""

    items: list[MovementOut]
    next_cursor: int | None


# --- reservations ----------------------------------------------------------------------------------


class ReservationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    location_id: uuid.UUID
    sku_id: uuid.UUID
    qty: int
    holder_id: uuid.UUID
    holder_line: int
    status: ReservationStatus
    expires_at: datetime | None
    created_at: datetime
    closed_at: datetime | None


class ReservationPage(BaseModel):
    items: list[ReservationOut]
    total: int
    limit: int
    offset: int


class HoldLineIn(_In):
    sku_id: uuid.UUID
    qty: Qty


class HoldIn(_In):
    """An operator's hold on stock (a B2B order, a quality check). Without `ttl_s` it lasts
    until released."""

    lines: list[HoldLineIn] = Field(min_length=1, max_length=MAX_LINES)
    ttl_s: int | None = Field(default=None, ge=1, le=MAX_TTL_S)
    reason: Reason = "operator hold"


class ReleaseIn(_In):
    """Release by ids or by holder (everything one order or transfer holds), not both."""

    reservation_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=MAX_PAGE)
    holder_id: uuid.UUID | None = None
    reason: Reason

    @model_validator(mode="after")
    def _one_selector(self) -> Self:
        if (self.reservation_ids is None) == (self.holder_id is None):
            raise ValueError("give either reservation_ids or holder_id")
        return self


class HoldOut(BaseModel):
    holder_id: uuid.UUID
    reservations: list[ReservationOut]
