"""What transfers and stock alerts look like going in and out of the warehouse domain.

Every number is bounded and every list has a maximum length, so no input can make a use case
allocate or lock without limit.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from warehouse.models import AlertKind, TransferStatus

MAX_QTY = 1_000_000
MAX_LINES = 500
MAX_PAGE = 100


class TransferLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: uuid.UUID
    qty: int = Field(ge=1, le=MAX_QTY)


class TransferCreate(BaseModel):
    """A manual transfer, planned by an operator (replenishment plans its own)."""

    model_config = ConfigDict(extra="forbid")

    from_location_id: uuid.UUID
    to_location_id: uuid.UUID
    lines: list[TransferLineIn] = Field(min_length=1, max_length=MAX_LINES)


class ReceiptLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: uuid.UUID
    # 0 is a legitimate count: the whole line was lost on the way.
    qty_received: int = Field(ge=0, le=MAX_QTY)


class ReceiptIn(BaseModel):
    """What arrived: one entry for every line of the transfer, counted at the door."""

    model_config = ConfigDict(extra="forbid")

    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=MAX_LINES)


class TransferLineOut(BaseModel):
    sku_id: uuid.UUID
    sku_code: str
    sku_name: str
    qty: int
    qty_received: int | None
    # Units that left the source but never arrived (qty − qty_received once received). They are
    # not in the ledger of either end: the source booked them out at dispatch, the destination
    # never booked them in.
    qty_lost: int | None


class TransferOut(BaseModel):
    id: uuid.UUID
    from_location_id: uuid.UUID
    to_location_id: uuid.UUID
    status: TransferStatus
    reason: str
    planned_at: datetime
    dispatched_at: datetime | None
    expected_at: datetime | None
    received_at: datetime | None
    created_by: uuid.UUID | None
    lines: list[TransferLineOut]
    total_qty: int
    lost_qty: int


class TransferPage(BaseModel):
    items: list[TransferOut]
    total: int
    limit: int
    offset: int


class StockAlertOut(BaseModel):
    id: uuid.UUID
    location_id: uuid.UUID
    location_code: str
    sku_id: uuid.UUID
    sku_code: str
    kind: AlertKind
    detail: str
    shortfall: int
    created_at: datetime


class StockAlertPage(BaseModel):
    items: list[StockAlertOut]
    total: int
    limit: int
    offset: int
