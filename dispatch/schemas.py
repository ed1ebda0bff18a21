"""What the order use cases take and give back; the customer and staff edges use these on the wire.

Every input is bounded (DESIGN.md §8) and forbids unknown fields, so a body that tries to set
`total` or `status` is a 422 rather than silently trusted or dropped.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dispatch.models import (
    FulfilmentStatus,
    LineState,
    OrderStatus,
    PaymentStatus,
    PlanKind,
    SubstituteState,
    SubstitutionPolicy,
)
from stores.schemas import PositionIn

MAX_LINES = 50
MAX_QTY = 999
MAX_PAGE = 100
MAX_BAGS = 50

SkuRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Qty = Annotated[int, Field(strict=True, ge=1, le=MAX_QTY)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineIn(_In):
    sku: SkuRef = Field(description="SKU id (UUID) or code.")
    qty: Qty


class CheckoutIn(_In):
    dropoff: PositionIn
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    substitution: SubstitutionPolicy = Field(
        default=SubstitutionPolicy.refund,
        description="If a line is missing when picked: allow a substitute, ask me, or refund it.",
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    payment_method: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,64}$")] = Field(
        default="card",
        description="A payment method token from the payment provider. With the simulated provider,"
        " `sim_decline` is declined and `sim_timeout` times out.",
    )


class SubstituteIn(_In):
    sku_id: uuid.UUID
    qty: Qty


class PickLineIn(_In):
    """What the picker found: `picked` of the line's quantity (less is a short pick), and for a
    short line optionally a substitute taken from the shelf (subject to the customer's choice)."""

    picked: int = Field(strict=True, ge=0, le=MAX_QTY)
    substitute: SubstituteIn | None = None


class LinePickIn(PickLineIn):
    """One line of a basket reported at once (`POST /staff/orders/{id}/lines/pick`)."""

    line_no: int = Field(strict=True, ge=1, le=MAX_LINES)


class PickLinesIn(_In):
    """A picker's whole basket: each line at most once (a repeated `line_no` is a 422)."""

    lines: list[LinePickIn] = Field(min_length=1, max_length=MAX_LINES)


class PackIn(_In):
    bags: int = Field(strict=True, ge=1, le=MAX_BAGS)
    cold_chain: bool = Field(strict=True, description="Chilled/frozen goods travel in a cold bag.")


class SubstitutionDecisionIn(_In):
    decision: Literal["approve", "reject"]


class CancelIn(_In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


# --- out -----------------------------------------------------------------------------------------


class Point(BaseModel):
    lat: float
    lon: float


class Window(BaseModel):
    start: datetime
    end: datetime


class Estimate(BaseModel):
    """Seconds, as estimated at checkout (a closed location's wait until opening is in the queue wait)."""

    lead_s: int
    queue_wait_s: int
    pick_s: int
    travel_s: int


class FulfilmentOut(BaseModel):
    location_id: uuid.UUID
    location_code: str
    location_name: str
    location_kind: str
    status: FulfilmentStatus
    line_nos: list[int]
    courier_expected_at: datetime
    ready_at: datetime | None
    bags: int | None
    cold_chain: bool | None
    estimate: Estimate


class SubstituteOut(BaseModel):
    sku_id: uuid.UUID
    sku_code: str
    name: str
    qty: int
    amount_minor: int
    state: SubstituteState


class LineOut(BaseModel):
    line_no: int
    sku_id: uuid.UUID
    sku_code: str
    name: str
    qty: int
    unit_price_minor: int
    amount_minor: int
    state: LineState
    picked_qty: int | None
    location_id: uuid.UUID
    substitute: SubstituteOut | None


class PriceOut(BaseModel):
    currency: str
    subtotal_minor: int
    delivery_fee_minor: int
    total_minor: int


class PaymentOut(BaseModel):
    status: PaymentStatus
    provider: str
    authorized_minor: int
    captured_minor: int
    refunded_minor: int


class Timestamps(BaseModel):
    placed_at: datetime
    accepted_at: datetime | None
    picking_at: datetime | None
    packed_at: datetime | None
    assigned_at: datetime | None
    picked_up_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    failed_delivery_at: datetime | None
    returned_at: datetime | None


class OrderOut(BaseModel):
    id: uuid.UUID
    status: OrderStatus
    plan: PlanKind
    dropoff: Point
    address: str
    note: str
    substitution: str
    promised_window: Window
    ready_at: datetime | None = Field(description="When the last bag was packed.")
    fulfilments: list[FulfilmentOut]
    lines: list[LineOut]
    price: PriceOut
    payment: PaymentOut
    timestamps: Timestamps
    cancel_reason: str | None
    explanation: dict[str, Any]
    delivery_pin: str | None = Field(
        default=None, description="Read it out to the courier at the door; shown while the order is on its way."
    )


class OrderSummary(BaseModel):
    id: uuid.UUID
    status: OrderStatus
    plan: PlanKind
    placed_at: datetime
    promised_window: Window
    currency: str
    total_minor: int


class OrderPage(BaseModel):
    items: list[OrderSummary]
    total: int
    limit: int
    offset: int


class PickLineOut(BaseModel):
    line_no: int
    sku_id: uuid.UUID
    sku_code: str
    name: str
    qty: int
    bin: str
    aisle: int = Field(description="The category's position along the pick path.")
    temperature: str
    state: LineState
    picked_qty: int | None
    substitute: SubstituteOut | None


class PickTicket(BaseModel):
    order_id: uuid.UUID
    order_status: OrderStatus
    fulfilment_status: FulfilmentStatus
    courier_expected_at: datetime
    start_by: datetime = Field(description="Start picking by then so the bag is ready when the courier arrives.")
    promised_window: Window
    substitution: str
    note: str
    split: bool
    lines: list[PickLineOut]
    ready_at: datetime | None
    bags: int | None
    cold_chain: bool | None


class PickList(BaseModel):
    location_id: uuid.UUID
    items: list[PickTicket]


class CatalogueItem(BaseModel):
    sku_id: uuid.UUID
    code: str
    name: str
    category_id: uuid.UUID
    price_minor: int
    currency: str
    temperature: str
    max_order_qty: int
    available_qty: int = Field(description="The most one location near you can deliver now.")
    available: bool


class Catalogue(BaseModel):
    point: Point
    delivery_window: Window | None = Field(description="The earliest window for a small basket, if anything is open.")
    locations: list[str] = Field(description="Codes of the locations that deliver here.")
    items: list[CatalogueItem]
    total: int
    limit: int
    offset: int
