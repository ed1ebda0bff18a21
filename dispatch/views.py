"""Orders as the customer (and the checkout's idempotent replay) see them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from dispatch import repository as repo
from dispatch.models import FulfilmentStatus, Order, OrderFulfilment, OrderLine
from dispatch.schemas import (
    Estimate,
    FulfilmentOut,
    LineOut,
    OrderOut,
    OrderSummary,
    PaymentOut,
    Point,
    PriceOut,
    SubstituteOut,
    Timestamps,
    Window,
)
from stores import service as stores
from stores.models import Location
from warehouse.models import Sku


@dataclass(frozen=True, slots=True)
class LocationLabel:
    """What an order view shows of a fulfilling location."""

    code: str
    name: str
    kind: str

    @classmethod
    def of(cls, location: Location) -> LocationLabel:
        return cls(code=location.code, name=location.name, kind=location.kind.value)


def window(order: Order) -> Window:
    return Window(start=order.promised_from, end=order.promised_to)


def substitute_out(line: OrderLine, skus: Mapping[uuid.UUID, Sku]) -> SubstituteOut | None:
    if line.substitute_sku_id is None or line.substitute_state is None or line.substitute_qty is None:
        return None
    sku = skus.get(line.substitute_sku_id)
    return SubstituteOut(
        sku_id=line.substitute_sku_id,
        sku_code=sku.code if sku else "",
        name=sku.name if sku else "",
        qty=line.substitute_qty,
        amount_minor=line.substitute_amount_minor or 0,
        state=line.substitute_state,
    )


def render(
    order: Order,
    fulfilments: Sequence[OrderFulfilment],
    lines: Sequence[OrderLine],
    locations: Mapping[uuid.UUID, LocationLabel],
    substitutes: Mapping[uuid.UUID, Sku],
) -> OrderOut:
    by_fulfilment = {f.id: f for f in fulfilments}
    packed = [f.ready_at for f in fulfilments if f.status is FulfilmentStatus.packed and f.ready_at]
    all_packed = bool(fulfilments) and len(packed) == len(fulfilments)
    return OrderOut(
        id=order.id,
        status=order.status,
        plan=order.plan,
        dropoff=Point(lat=order.dropoff_lat, lon=order.dropoff_lon),
        address=order.address,
        note=order.note,
        substitution=order.substitution.value,
        promised_window=window(order),
        ready_at=max(packed) if all_packed else None,
        fulfilments=[
            FulfilmentOut(
                location_id=f.location_id,
                location_code=locations[f.location_id].code,
                location_name=locations[f.location_id].name,
                location_kind=locations[f.location_id].kind,
                status=f.status,
                line_nos=[line.line_no for line in lines if line.fulfilment_id == f.id],
                courier_expected_at=f.courier_expected_at,
                ready_at=f.ready_at,
                bags=f.bags,
                cold_chain=f.cold_chain,
                estimate=Estimate(lead_s=f.lead_s, queue_wait_s=f.queue_wait_s, pick_s=f.pick_s, travel_s=f.travel_s),
            )
            for f in fulfilments
        ],
        lines=[
            LineOut(
                line_no=line.line_no,
                sku_id=line.sku_id,
                sku_code=line.sku_code,
                name=line.name,
                qty=line.qty,
                unit_price_minor=line.unit_price_minor,
                amount_minor=line.amount_minor,
                state=line.state,
                picked_qty=line.picked_qty,
                location_id=by_fulfilment[line.fulfilment_id].location_id,
                substitute=substitute_out(line, substitutes),
            )
            for line in lines
        ],
        price=PriceOut(
            currency=order.currency,
            subtotal_minor=order.subtotal_minor,
            delivery_fee_minor=order.delivery_fee_minor,
            total_minor=order.total_minor,
        ),
        payment=PaymentOut(
            status=order.payment_status,
            provider=order.payment_provider,
            authorized_minor=order.authorized_minor,
            captured_minor=order.captured_minor,
            refunded_minor=order.refunded_minor,
        ),
        timestamps=Timestamps(
            placed_at=order.placed_at,
            accepted_at=order.accepted_at,
            picking_at=order.picking_at,
            packed_at=order.packed_at,
            assigned_at=order.assigned_at,
            picked_up_at=order.picked_up_at,
            delivered_at=order.delivered_at,
            cancelled_at=order.cancelled_at,
            failed_delivery_at=order.failed_delivery_at,
            returned_at=order.returned_at,
        ),
        cancel_reason=order.cancel_reason,
        explanation=order.explanation,
    )


def load(session: Session, order: Order) -> OrderOut:
    """Read everything an order view needs (a handful of queries) and render it."""
    fulfilments = repo.fulfilments_of(session, [order.id])
    lines = repo.lines_of(session, [order.id])
    locations = {f.location_id: LocationLabel.of(stores.get_location(session, f.location_id)) for f in fulfilments}
    substitutes = repo.skus_by_id(session, {line.substitute_sku_id for line in lines if line.substitute_sku_id})
    return render(order, fulfilments, lines, locations, substitutes)


def summary(order: Order) -> OrderSummary:
    return OrderSummary(
        id=order.id,
        status=order.status,
        plan=order.plan,
        placed_at=order.placed_at,
        promised_window=window(order),
        currency=order.currency,
        total_minor=order.total_minor,
    )
