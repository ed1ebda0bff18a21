"""`/customer/orders`: checkout, my orders, cancel, and answers to proposed substitutes.

A customer sees only their own orders; another customer's order id is a 404.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Query
from fastapi.responses import JSONResponse

from core.auth.models import Role
from core.auth.tokens import Principal
from core.http.deps import DbSession, allow
from dispatch import checkout, orders, picking
from dispatch.schemas import MAX_LINES, MAX_PAGE, CancelIn, CheckoutIn, OrderOut, OrderPage, SubstitutionDecisionIn

router = APIRouter(prefix="/customer", tags=["customer: orders"])

Customer = Annotated[Principal, Depends(allow(Role.customer))]
IDEMPOTENCY_DOC = (
    "Required. One key per intended order (e.g. a UUID made when the basket is submitted); resending the same"
    " body with the same key returns the same order instead of placing another."
)


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderOut,
    responses={
        400: {"description": "`idempotency_key_required` / `invalid_idempotency_key`"},
        402: {"description": "`payment_declined`: nothing was reserved or charged"},
        409: {"description": "`insufficient_stock` (per-line availability in `lines`) or `request_in_progress`"},
        422: {"description": "`unknown_sku`, `quantity_over_max`, `outside_service_area`, `invalid_coordinates`, …"},
    },
)
def place_order(
    body: CheckoutIn,
    session: DbSession,
    principal: Customer,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", description=IDEMPOTENCY_DOC)] = None,
) -> JSONResponse:
    """Place an order: it goes to the location that can deliver everything soonest (or two, or a
    warehouse later), stock is held and the payment authorized; the answer says where and why."""
    result = checkout.checkout(session, customer_id=principal.user_id, idempotency_key=idempotency_key, data=body)
    headers = {"Location": f"/customer/orders/{result.body['id']}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(result.body, status_code=result.status_code, headers=headers)


@router.get("/orders")
def list_my_orders(
    session: DbSession,
    principal: Customer,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> OrderPage:
    """My orders, newest first."""
    return orders.list_for_customer(session, customer_id=principal.user_id, limit=limit, offset=offset)


@router.get("/orders/{order_id}")
def get_my_order(order_id: uuid.UUID, session: DbSession, principal: Customer) -> OrderOut:
    return orders.get_for_customer(session, customer_id=principal.user_id, order_id=order_id)


@router.post("/orders/{order_id}/cancel")
def cancel_my_order(
    order_id: uuid.UUID,
    session: DbSession,
    principal: Customer,
    body: Annotated[CancelIn | None, Body()] = None,
) -> OrderOut:
    """Cancel until a courier has picked the order up: the stock goes back, the payment hold is voided."""
    reason = body.reason if body else ""
    return orders.cancel(
        session, order_id=order_id, customer_id=principal.user_id, reason=reason, actor_id=principal.user_id
    )


@router.post("/orders/{order_id}/substitutions/{line_no}")
def answer_substitution(
    order_id: uuid.UUID,
    line_no: Annotated[int, Path(ge=1, le=MAX_LINES)],
    body: SubstitutionDecisionIn,
    session: DbSession,
    principal: Customer,
) -> OrderOut:
    """Approve or reject the substitute the picker proposed for a missing line (rejected: refunded)."""
    return picking.decide_substitution(
        session, customer_id=principal.user_id, order_id=order_id, line_no=line_no, approve=body.decision == "approve"
    )
