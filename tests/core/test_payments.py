"""The simulated payment provider keeps a gateway's rules in its own ledger."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from core.errors import DomainError
from core.payments import PaymentProvider, SimulatedEntryKind, SimulatedPaymentEntry, SimulatedPaymentProvider


@pytest.fixture
def provider(db_session) -> SimulatedPaymentProvider:
    return SimulatedPaymentProvider(db_session)


def _ledger(db_session) -> list[tuple[str, int]]:
    rows = db_session.execute(
        select(SimulatedPaymentEntry.kind, SimulatedPaymentEntry.amount_minor).order_by(SimulatedPaymentEntry.id)
    )
    return [(kind.value, amount) for kind, amount in rows]


def check_fails(call, code: str, reason: str | None = None) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code
    if reason is not None:
        assert caught.value.extra["reason"] == reason
    return caught.value


def test_it_satisfies_the_protocol(provider) -> None:
    satisfied: PaymentProvider = provider
    assert satisfied.name == "simulated"


def test_authorize_then_capture_part_of_it(db_session, provider) -> None:
    auth = provider.authorize(reference="order-1", amount_minor=1000, currency="EUR", payment_method="card")
    settled = provider.capture(authorization_id=auth.id, amount_minor=800)
    assert (auth.amount_minor, settled.amount_minor) == (1000, 800)
    assert _ledger(db_session) == [("authorize", 1000), ("capture", 800)]


def test_never_two_captures_and_never_more_than_authorized(db_session, provider) -> None:
    auth = provider.authorize(reference="order-1", amount_minor=1000, currency="EUR", payment_method="card")
    check_fails(
        lambda: provider.capture(authorization_id=auth.id, amount_minor=1001),
        "payment_conflict",
        "exceeds_authorization",
    )
    provider.capture(authorization_id=auth.id, amount_minor=1000)
    check_fails(
        lambda: provider.capture(authorization_id=auth.id, amount_minor=1), "payment_conflict", "already_captured"
    )
    assert _ledger(db_session) == [("authorize", 1000), ("capture", 1000)]


def test_the_database_itself_refuses_a_second_capture(db_session, provider) -> None:
    auth = provider.authorize(reference="order-1", amount_minor=500, currency="EUR", payment_method="card")
    provider.capture(authorization_id=auth.id, amount_minor=500)
    row = {"authorization_id": auth.id, "kind": "capture", "amount_minor": 1, "currency": "EUR", "reference": "x"}
    savepoint = db_session.begin_nested()
    with pytest.raises(IntegrityError):
        db_session.execute(insert(SimulatedPaymentEntry).values(**row))
    savepoint.rollback()


def test_void_is_idempotent_and_blocks_capture(db_session, provider) -> None:
    auth = provider.authorize(reference="order-1", amount_minor=700, currency="EUR", payment_method="card")
    provider.void(authorization_id=auth.id)
    provider.void(authorization_id=auth.id)
    check_fails(lambda: provider.capture(authorization_id=auth.id, amount_minor=700), "payment_conflict", "voided")
    assert _ledger(db_session) == [("authorize", 700), ("void", 700)]


def test_a_captured_payment_is_refunded_not_voided_and_never_beyond_the_capture(db_session, provider) -> None:
    auth = provider.authorize(reference="order-1", amount_minor=900, currency="EUR", payment_method="card")
    check_fails(lambda: provider.refund(authorization_id=auth.id, amount_minor=1), "payment_conflict", "not_captured")
    provider.capture(authorization_id=auth.id, amount_minor=600)
    check_fails(lambda: provider.void(authorization_id=auth.id), "payment_conflict", "already_captured")
    provider.refund(authorization_id=auth.id, amount_minor=400)
    check_fails(
        lambda: provider.refund(authorization_id=auth.id, amount_minor=201), "payment_conflict", "exceeds_capture"
    )
    provider.refund(authorization_id=auth.id, amount_minor=200)
    assert _ledger(db_session) == [("authorize", 900), ("capture", 600), ("refund", 400), ("refund", 200)]


def test_it_can_be_told_to_decline_or_time_out(db_session) -> None:
    declined = check_fails(
        lambda: SimulatedPaymentProvider(db_session).authorize(
            reference="o", amount_minor=100, currency="EUR", payment_method="sim_decline"
        ),
        "payment_declined",
    )
    assert declined.status_code == 402
    check_fails(
        lambda: SimulatedPaymentProvider(db_session, decline=True).authorize(
            reference="o", amount_minor=100, currency="EUR", payment_method="card"
        ),
        "payment_declined",
    )
    timeout = check_fails(
        lambda: SimulatedPaymentProvider(db_session, timeout=True).authorize(
            reference="o", amount_minor=100, currency="EUR", payment_method="card"
        ),
        "payment_timeout",
    )
    assert timeout.status_code == 504
    # A decline is on the books; a timeout left nothing behind.
    assert [k for k, _ in _ledger(db_session)] == [SimulatedEntryKind.decline.value] * 2


def test_operations_on_an_unknown_authorization_are_404(provider) -> None:
    check_fails(lambda: provider.capture(authorization_id="sim_nope", amount_minor=1), "payment_not_found")


@pytest.mark.parametrize("amount", [0, -1, True, 10**12])
def test_amounts_are_positive_bounded_integers(provider, amount) -> None:
    with pytest.raises(ValueError):
        provider.authorize(reference="o", amount_minor=amount, currency="EUR", payment_method="card")
