"""Checkout: from a basket and a door to a placed, paid-for order at the best location(s).

One transaction, in this order (so that everything that can fail locally fails before money
moves, and hot stock rows stay locked as briefly as possible):

1. idempotency: a transaction-scoped advisory lock on (customer, key) — a second request with
   the key while this one runs gets 409 `request_in_progress`; a key already used replays the
   stored response (or 422 if the body differs);
2. the basket: SKUs resolved, duplicates merged, quantities checked against each SKU's maximum;
3. the candidates (`dispatch.candidates`) and the ranked plans (`dispatch.assignment`);
4. reserve the best plan's lines (all or nothing per location, locations in id order so that
   two split checkouts never deadlock); a concurrent checkout that took the stock makes us
   learn the new figures and re-rank, in the same request;
5. authorize the payment (declined → 402 and everything above is rolled back);
6. write the order, its fulfilments and lines, the stored response and the `order.placed` event.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core import clock
from core.geo import GeoPoint
from dispatch import assignment, candidates, checkout_sql, explain, payments, views
from dispatch import repository as repo
from dispatch.assignment import Candidate, Plan
from dispatch.checkout_sql import Nearby, SkuFacts, StoredResponse
from dispatch.errors import (
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    MixedCurrencies,
    NotDeliverable,
    QuantityOverMax,
    RequestInProgress,
    UnknownSku,
)
from dispatch.models import (
    FulfilmentStatus,
    IdempotencyKey,
    LineState,
    Order,
    OrderFulfilment,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    PlanKind,
)
from dispatch.schemas import CheckoutIn, LineIn
from dispatch.states import order_event
from dispatch.travel import TravelEstimator, default_estimator
from stores.errors import InvalidCoordinates
from stores.zones import parse_position
from warehouse import reservations
from warehouse.errors import InsufficientStock
from warehouse.models import StockReservation

KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,100}")  # printable ASCII, no spaces
DELIVERY_FEE_MINOR = 299
FREE_DELIVERY_FROM_MINOR = 3000
WINDOW_S = {PlanKind.single: 20 * 60, PlanKind.split_: 20 * 60, PlanKind.later_window: 60 * 60}
# Plans tried per checkout before giving up: each failed try re-reads the figures it lacked, so
# only a storm of concurrent buyers of the same items can exhaust this.
MAX_ATTEMPTS = 6
KEY_RETENTION_S = 24 * 3600


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    status_code: int
    body: dict[str, Any]
    replayed: bool


@dataclass(frozen=True, slots=True)
class BasketLine:
    sku: SkuFacts
    qty: int


def checkout(
    session: Session,
    *,
    customer_id: uuid.UUID,
    idempotency_key: str | None,
    data: CheckoutIn,
    travel: TravelEstimator | None = None,
) -> CheckoutResult:
    key = _checked_key(idempotency_key)
    fingerprint = request_fingerprint(data)
    point: GeoPoint | None = None
    bad_point: InvalidCoordinates | None = None
    try:
        point = parse_position(data.dropoff.model_dump())
    except InvalidCoordinates as exc:
        bad_point = exc  # raised only after the key checks, which come first
    # The lock, the stored key, the SKUs and the covering locations in one round trip.
    first = checkout_sql.opening(
        session,
        customer_id=customer_id,
        key=key,
        sku_refs={line.sku for line in data.lines},
        point=point,
        limit=candidates.MAX_CANDIDATES,
    )
    if not first.locked:
        raise RequestInProgress("A checkout with this Idempotency-Key is in progress; retry shortly.")
    if first.stored is not None:
        return _replay(first.stored, fingerprint)
    if bad_point is not None or point is None or first.covering is None:
        raise bad_point or AssertionError("a valid point was asked about")

    now = clock.now()
    basket = _basket(first.skus, data.lines)
    wanted = {line.sku.id: line.qty for line in basket}
    order_id = uuid.uuid4()
    plan, held, pool, attempts, skipped = _reserve(
        session, point, first.covering, wanted, order_id, now, travel or default_estimator()
    )

    subtotal = sum(line.sku.price_minor * line.qty for line in basket)
    fee = 0 if subtotal >= FREE_DELIVERY_FROM_MINOR else DELIVERY_FEE_MINOR
    currency = basket[0].sku.currency
    provider = payments.provider_for(session)
    authorization = provider.authorize(
        reference=str(order_id), amount_minor=subtotal + fee, currency=currency, payment_method=data.payment_method
    )

    start = ceil_minute(now + timedelta(seconds=plan.door_s))
    order = Order(
        id=order_id,
        customer_id=customer_id,
        status=OrderStatus.placed,
        substitution=data.substitution,
        plan=plan.kind,
        dropoff_lat=point.lat,
        dropoff_lon=point.lon,
        address=data.address,
        note=data.note,
        currency=currency,
        subtotal_minor=subtotal,
        delivery_fee_minor=fee,
        total_minor=subtotal + fee,
        authorized_minor=authorization.amount_minor,
        captured_minor=0,
        refunded_minor=0,
        payment_status=PaymentStatus.authorized,
        payment_provider=provider.name,
        payment_ref=authorization.id,
        promised_from=start,
        promised_to=start + timedelta(seconds=WINDOW_S[plan.kind]),
        explanation=explain.explanation(
            plan, pool, skipped, attempts, wanted, {line.sku.id: line.sku for line in basket}
        ),
        placed_at=now,
        created_at=now,
        updated_at=now,
    )
    fulfilments, lines = _rows(order, plan, basket, held)
    placed = order_event(
        order,
        OrderStatus.placed,
        previous=None,
        at=now,
        actor_id=customer_id,
        details={"location_ids": [str(loc) for loc in plan.location_ids], "plan": plan.kind.value},
    )
    locations = {c.location_id: views.LocationLabel(c.code, c.name, c.kind) for c in pool}
    body = views.render(order, fulfilments, lines, locations, {}).model_dump(mode="json")
    stored = IdempotencyKey(
        customer_id=customer_id,
        key=key,
        request_hash=fingerprint,
        order_id=order_id,
        response_status=201,
        response_body=body,
        created_at=now,
    )
    # The order, then its fulfilments and lines, the stored response and the `order.placed`
    # event: one round trip. A plain INSERT of the key: the advisory lock makes a conflict
    # impossible, and if it ever happened the unique violation must abort this checkout rather
    # than be swallowed. The event is inserted after whatever the session had pending (flushed
    # first), so the outbox keeps the order of emission.
    checkout_sql.write_rows(session, [[order], fulfilments, lines, [stored], [placed]])
    return CheckoutResult(status_code=201, body=body, replayed=False)


# --- idempotency ---------------------------------------------------------------------------------


def _checked_key(key: str | None) -> str:
    if key is None or key == "":
        raise IdempotencyKeyRequired("Send an Idempotency-Key header (e.g. a UUID) with every checkout.")
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidIdempotencyKey("An Idempotency-Key is 1–100 printable ASCII characters without spaces.")
    return key


def request_fingerprint(data: CheckoutIn) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(stored: StoredResponse, fingerprint: str) -> CheckoutResult:
    if stored.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different checkout; use a new key for a new order.",
            order_id=str(stored.order_id),
        )
    return CheckoutResult(status_code=stored.response_status, body=stored.response_body, replayed=True)


def purge_keys(session: Session, *, older_than_s: int = KEY_RETENTION_S, limit: int = 5000) -> int:
    """Forget idempotency keys older than `older_than_s` (a client retries within minutes, not
    days); returns how many went. Bounded per call so one sweep never holds locks for long."""
    return repo.delete_keys_before(session, cutoff=clock.now() - timedelta(seconds=older_than_s), limit=limit)


# --- the basket ----------------------------------------------------------------------------------


def _basket(found: list[SkuFacts], lines: list[LineIn]) -> list[BasketLine]:
    """The SKUs of `lines` (read by `checkout_sql.opening`), duplicates merged, checked."""
    refs = {line.sku for line in lines}
    by_ref: dict[str, SkuFacts] = {}
    for sku in found:
        by_ref[sku.code] = sku
        by_ref[str(sku.id)] = sku
    unknown = sorted(ref for ref in refs if ref not in by_ref and _as_uuid_text(ref) not in by_ref)
    inactive = sorted({sku.code for sku in found if not sku.active})
    if unknown or inactive:
        raise UnknownSku("Some SKUs are unknown or no longer sold.", skus=unknown + inactive)
    merged: dict[uuid.UUID, BasketLine] = {}
    for line in lines:
        sku = by_ref.get(line.sku) or by_ref[_as_uuid_text(line.sku)]
        previous = merged.get(sku.id)
        merged[sku.id] = BasketLine(sku=sku, qty=line.qty + (previous.qty if previous else 0))
    over = [
        {"sku": b.sku.code, "qty": b.qty, "max": b.sku.max_order_qty}
        for b in merged.values()
        if b.qty > b.sku.max_order_qty
    ]
    if over:
        raise QuantityOverMax("Some quantities exceed what one order may hold of that SKU.", lines=over)
    if len({b.sku.currency for b in merged.values()}) > 1:
        raise MixedCurrencies("All SKUs of one order must be priced in the same currency.")
    return list(merged.values())


def _as_uuid_text(ref: str) -> str:
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        return ref


# --- choosing and holding the stock ----------------------------------------------------------------


def _reserve(
    session: Session,
    point: GeoPoint,
    nearby: list[Nearby],
    wanted: dict[uuid.UUID, int],
    order_id: uuid.UUID,
    now: datetime,
    travel: TravelEstimator,
) -> tuple[Plan, list[StockReservation], list[Candidate], list[dict[str, Any]], list[candidates.Skipped]]:
    skus = sorted(wanted)
    if not nearby:
        candidates.outside(session, point)
    pool, skipped = candidates.build(
        session, nearby=nearby, covering_zone=True, point=point, sku_ids=skus, now=now, travel=travel
    )
    attempts: list[dict[str, Any]] = []
    warehouses_loaded = False
    for _ in range(MAX_ATTEMPTS):
        plans = assignment.ranked_plans(pool, wanted, limit=1)
        if not plans and not warehouses_loaded:
            warehouses_loaded = True
            far = candidates.warehouses(session, point, exclude={c.location_id for c in pool})
            extra, extra_skipped = candidates.build(
                session, nearby=far, covering_zone=False, point=point, sku_ids=skus, now=now, travel=travel
            )
            pool, skipped = pool + extra, skipped + extra_skipped
            plans = assignment.ranked_plans(pool, wanted, limit=1)
        if not plans:
            break
        plan = plans[0]
        try:
            held = _hold(session, plan, wanted, order_id)
        except InsufficientStock as exc:
            lost = uuid.UUID(str(exc.extra.get("location_id")))
            fresh = {uuid.UUID(line["sku_id"]): int(line["available"]) for line in exc.extra.get("lines", [])}
            pool = [c.with_available(fresh) if c.location_id == lost else c for c in pool]
            attempts.append(explain.attempt(plan, lost_at=lost, pool=pool))
            continue
        attempts.append(explain.attempt(plan, lost_at=None, pool=pool))
        return plan, held, pool, attempts, skipped
    best = assignment.best_single_availability(pool, wanted)
    raise NotDeliverable(
        "No location near you can deliver this basket, not even split in two or later from a warehouse.",
        lines=[{"sku_id": str(sku), "requested": wanted[sku], "available": best[sku]} for sku in skus],
    )


def _hold(session: Session, plan: Plan, wanted: dict[uuid.UUID, int], order_id: uuid.UUID) -> list[StockReservation]:
    # The holds are paid for in this same transaction (the payment is authorized before it
    # commits, or everything rolls back), so they need no expiry: they last until picked,
    # shorted or released by a cancellation.
    def hold(part: assignment.Part) -> list[StockReservation]:
        return reservations.reserve(
            session,
            location_id=part.candidate.location_id,
            lines=[(sku, wanted[sku]) for sku in part.sku_ids],
            holder_id=order_id,
            indefinite=True,
            reason=f"order {order_id}",
        )

    if len(plan.parts) == 1:
        return hold(plan.parts[0])  # `reserve` undoes its own work when it fails
    # Both halves or neither: undo the first location's holds when the second cannot be had.
    with session.begin_nested():
        return [reservation for part in plan.parts for reservation in hold(part)]


# --- the order's rows ------------------------------------------------------------------------------


def _rows(
    order: Order, plan: Plan, basket: list[BasketLine], held: list[StockReservation]
) -> tuple[list[OrderFulfilment], list[OrderLine]]:
    reservation_of = {(r.location_id, r.sku_id): r.id for r in held}
    fulfilments: list[OrderFulfilment] = []
    where: dict[uuid.UUID, OrderFulfilment] = {}
    for part in plan.parts:
        c = part.candidate
        fulfilment = OrderFulfilment(
            id=uuid.uuid4(),
            order_id=order.id,
            location_id=c.location_id,
            status=FulfilmentStatus.pending,
            queue_wait_s=c.queue_wait_s + c.opens_in_s,
            pick_s=c.pick_s(len(part.sku_ids)),
            travel_s=c.travel_s,
            lead_s=c.lead_s,
            line_count=len(part.sku_ids),
            # Until dispatch assigns a courier: they should be at the store one ride before
            # the window opens, and the pick list is sorted by that moment.
            courier_expected_at=order.promised_from - timedelta(seconds=c.travel_s),
            created_at=order.placed_at,
        )
        fulfilments.append(fulfilment)
        where.update(dict.fromkeys(part.sku_ids, fulfilment))
    lines = [
        OrderLine(
            order_id=order.id,
            line_no=index,
            fulfilment_id=where[b.sku.id].id,
            sku_id=b.sku.id,
            sku_code=b.sku.code,
            name=b.sku.name,
            qty=b.qty,
            unit_price_minor=b.sku.price_minor,
            amount_minor=b.sku.price_minor * b.qty,
            reservation_id=reservation_of[(where[b.sku.id].location_id, b.sku.id)],
            state=LineState.open,
        )
        for index, b in enumerate(basket, start=1)
    ]
    return fulfilments, lines


def ceil_minute(at: datetime) -> datetime:
    floor = at.replace(second=0, microsecond=0)
    return floor if floor == at else floor + timedelta(minutes=1)
