"""The order domain's side of payments: which provider, and what each order event does to money.

authorize at checkout (in `dispatch.checkout`), capture at delivery, void on cancel before
capture, refund after it. The provider comes from a factory so a deployment (or a test) can
plug a real gateway adapter in; the default is the simulated provider of `core.payments`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from core.payments import PaymentProvider, SimulatedPaymentProvider
from dispatch.models import Order, PaymentStatus

ProviderFactory = Callable[[Session], PaymentProvider]

_factory: ProviderFactory = SimulatedPaymentProvider


def provider_for(session: Session) -> PaymentProvider:
    return _factory(session)


def set_provider_factory(factory: ProviderFactory | None) -> None:
    global _factory
    _factory = factory or SimulatedPaymentProvider


def capture(session: Session, order: Order) -> None:
    """At delivery: take what the customer owes now (never more than authorized). An order whose
    every line was refunded owes nothing: its hold is voided instead."""
    provider = provider_for(session)
    if order.payment_status is not PaymentStatus.authorized:
        # The state machine delivers an order once; this guards the money independently of it.
        raise RuntimeError(f"order {order.id} cannot be captured: payment is {order.payment_status.value}")
    if order.total_minor == 0:
        provider.void(authorization_id=order.payment_ref)
        order.payment_status = PaymentStatus.voided
        return
    settled = provider.capture(authorization_id=order.payment_ref, amount_minor=order.total_minor)
    order.captured_minor = settled.amount_minor
    order.payment_status = PaymentStatus.captured


def release(session: Session, order: Order) -> None:
    """On cancel: drop the hold, or give back what was taken."""
    provider = provider_for(session)
    if order.payment_status is PaymentStatus.authorized:
        provider.void(authorization_id=order.payment_ref)
        order.payment_status = PaymentStatus.voided
    elif order.payment_status is PaymentStatus.captured and order.captured_minor > order.refunded_minor:
        settled = provider.refund(
            authorization_id=order.payment_ref, amount_minor=order.captured_minor - order.refunded_minor
        )
        order.refunded_minor += settled.amount_minor
        order.payment_status = PaymentStatus.refunded
