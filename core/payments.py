"""Payments behind one interface: authorize at checkout, capture at delivery, void or refund.

`PaymentProvider` is what the order domain talks to; a real gateway (Stripe, Adyen, …) plugs in
behind it as an adapter. `SimulatedPaymentProvider` is the bundled stand-in: it keeps its own
ledger table and enforces a gateway's rules (capture at most what was authorized, never twice,
no capture after a void, refunds only of captured money), so the order code is exercised
against the same failures a real gateway produces.

The simulated provider writes through the caller's session, so its ledger commits or rolls back
with the order. A real gateway is outside our transaction; the order code therefore authorizes
last in the checkout (after everything local that can fail) and voids when a later step fails.

How to make it fail (like a gateway's test cards): pay with the method `sim_decline` (declined,
402) or `sim_timeout` (no answer, 504); or construct it with `decline=True` / `timeout=True`.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import BigInteger, CheckConstraint, Identity, Index, String, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, str_enum
from core.errors import Conflict, DomainError, NotFound

MAX_AMOUNT_MINOR = 100_000_000_00
DECLINE_METHOD = "sim_decline"
TIMEOUT_METHOD = "sim_timeout"


class PaymentDeclined(DomainError):
    status_code = 402
    code = "payment_declined"


class PaymentTimeout(DomainError):
    """The gateway did not answer in time; the outcome is unknown to the caller."""

    status_code = 504
    code = "payment_timeout"


class PaymentConflict(Conflict):
    """The gateway refuses the operation in the authorization's current state."""

    code = "payment_conflict"


class PaymentNotFound(NotFound):
    code = "payment_not_found"


@dataclass(frozen=True, slots=True)
class Authorization:
    id: str
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class Settlement:
    """The result of a capture or refund."""

    authorization_id: str
    amount_minor: int


class PaymentProvider(Protocol):
    """What a payment gateway adapter offers. Amounts are integer minor units."""

    name: str

    def authorize(self, *, reference: str, amount_minor: int, currency: str, payment_method: str) -> Authorization:
        """Hold `amount_minor` on the customer's method; `PaymentDeclined` or `PaymentTimeout`."""
        ...

    def capture(self, *, authorization_id: str, amount_minor: int) -> Settlement:
        """Take up to the authorized amount, once; the rest of the hold lapses."""
        ...

    def void(self, *, authorization_id: str) -> None:
        """Drop an uncaptured hold (idempotent)."""
        ...

    def refund(self, *, authorization_id: str, amount_minor: int) -> Settlement:
        """Give back part or all of what was captured."""
        ...


class SimulatedEntryKind(enum.StrEnum):
    authorize = "authorize"
    decline = "decline"
    capture = "capture"
    void = "void"
    refund = "refund"


class SimulatedPaymentEntry(Base):
    """The simulated gateway's own books: one row per operation, append-only."""

    __tablename__ = "simulated_payment_entries"
    __table_args__ = (
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        # The gateway's own rules, held by the database even against concurrent callers:
        # one authorization per id, at most one capture and one void of it.
        Index(
            "uq_simulated_payment_entries_once",
            "authorization_id",
            "kind",
            unique=True,
            postgresql_where=text("kind IN ('authorize', 'capture', 'void')"),
        ),
        Index("ix_simulated_payment_entries_reference", "reference"),
        # Every operation reads the authorization's entries of all kinds (not only the three above).
        Index("ix_simulated_payment_entries_authorization_id", "authorization_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    authorization_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[SimulatedEntryKind] = mapped_column(str_enum(SimulatedEntryKind, "simulated_entry_kind", 16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class SimulatedPaymentProvider:
    """A local gateway with real rules and a ledger; see the module docstring for failures."""

    name = "simulated"

    def __init__(self, session: Session, *, decline: bool = False, timeout: bool = False) -> None:
        self._session = session
        self._decline = decline
        self._timeout = timeout

    def authorize(self, *, reference: str, amount_minor: int, currency: str, payment_method: str) -> Authorization:
        _check_amount(amount_minor)
        if self._timeout or payment_method == TIMEOUT_METHOD:
            raise PaymentTimeout("The payment provider did not answer in time; nothing was charged. Try again.")
        authorization_id = f"sim_{uuid.uuid4().hex}"
        declined = self._decline or payment_method == DECLINE_METHOD
        kind = SimulatedEntryKind.decline if declined else SimulatedEntryKind.authorize
        self._record(authorization_id, kind, amount_minor, currency, reference)
        if declined:
            raise PaymentDeclined("The payment was declined by the card issuer.", decline_code="card_declined")
        return Authorization(id=authorization_id, amount_minor=amount_minor, currency=currency)

    def capture(self, *, authorization_id: str, amount_minor: int) -> Settlement:
        _check_amount(amount_minor)
        held = self._locked_authorization(authorization_id)
        done = self._kinds(authorization_id)
        if SimulatedEntryKind.capture in done:
            raise PaymentConflict("This authorization has already been captured.", reason="already_captured")
        if SimulatedEntryKind.void in done:
            raise PaymentConflict("This authorization was voided.", reason="voided")
        if amount_minor > held.amount_minor:
            raise PaymentConflict(
                "Cannot capture more than was authorized.",
                reason="exceeds_authorization",
                authorized_minor=held.amount_minor,
            )
        self._record(authorization_id, SimulatedEntryKind.capture, amount_minor, held.currency, held.reference)
        return Settlement(authorization_id=authorization_id, amount_minor=amount_minor)

    def void(self, *, authorization_id: str) -> None:
        held = self._locked_authorization(authorization_id)
        done = self._kinds(authorization_id)
        if SimulatedEntryKind.void in done:
            return
        if SimulatedEntryKind.capture in done:
            raise PaymentConflict("A captured payment is refunded, not voided.", reason="already_captured")
        self._record(authorization_id, SimulatedEntryKind.void, held.amount_minor, held.currency, held.reference)

    def refund(self, *, authorization_id: str, amount_minor: int) -> Settlement:
        _check_amount(amount_minor)
        held = self._locked_authorization(authorization_id)
        captured = self._total(authorization_id, SimulatedEntryKind.capture)
        if captured == 0:
            raise PaymentConflict("Nothing was captured, so nothing can be refunded.", reason="not_captured")
        refunded = self._total(authorization_id, SimulatedEntryKind.refund)
        if refunded + amount_minor > captured:
            raise PaymentConflict(
                "Cannot refund more than was captured.", reason="exceeds_capture", refundable_minor=captured - refunded
            )
        self._record(authorization_id, SimulatedEntryKind.refund, amount_minor, held.currency, held.reference)
        return Settlement(authorization_id=authorization_id, amount_minor=amount_minor)

    # --- the books ---------------------------------------------------------------------------

    def _record(self, authorization_id: str, kind: SimulatedEntryKind, amount: int, currency: str, ref: str) -> None:
        self._session.add(
            SimulatedPaymentEntry(
                authorization_id=authorization_id, kind=kind, amount_minor=amount, currency=currency, reference=ref
            )
        )
        self._session.flush()

    def _locked_authorization(self, authorization_id: str) -> SimulatedPaymentEntry:
        # Locking the authorization row serialises every later operation on it, so two
        # concurrent captures cannot both see "not captured yet".
        entry = self._session.scalar(
            select(SimulatedPaymentEntry)
            .where(
                SimulatedPaymentEntry.authorization_id == authorization_id,
                SimulatedPaymentEntry.kind == SimulatedEntryKind.authorize,
            )
            .with_for_update()
        )
        if entry is None:
            raise PaymentNotFound("No such authorization.", authorization_id=authorization_id)
        return entry

    def _kinds(self, authorization_id: str) -> set[SimulatedEntryKind]:
        rows = self._session.scalars(
            select(SimulatedPaymentEntry.kind).where(SimulatedPaymentEntry.authorization_id == authorization_id)
        )
        return set(rows)

    def _total(self, authorization_id: str, kind: SimulatedEntryKind) -> int:
        total = self._session.scalar(
            select(func.coalesce(func.sum(SimulatedPaymentEntry.amount_minor), 0)).where(
                SimulatedPaymentEntry.authorization_id == authorization_id, SimulatedPaymentEntry.kind == kind
            )
        )
        return int(total or 0)


def _check_amount(amount_minor: int) -> None:
    # A caller bug, not customer input: the order code only ever passes totals it computed.
    if isinstance(amount_minor, bool) or not 1 <= amount_minor <= MAX_AMOUNT_MINOR:
        raise ValueError(f"amount_minor must be an integer from 1 to {MAX_AMOUNT_MINOR}")
