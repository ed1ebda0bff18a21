"""Errors of the order domain, each with the machine-readable code a client acts on."""

from __future__ import annotations

from core.errors import Conflict, DomainError, InvalidInput, NotFound


class OrderNotFound(NotFound):
    # Also what anyone but the owner (or the fulfilling location's staff) gets: an order of
    # someone else does not exist for them.
    code = "order_not_found"


class LineNotFound(NotFound):
    code = "line_not_found"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class OutsideServiceArea(InvalidInput):
    code = "outside_service_area"


class UnknownSku(InvalidInput):
    code = "unknown_sku"


class QuantityOverMax(InvalidInput):
    code = "quantity_over_max"


class MixedCurrencies(InvalidInput):
    code = "mixed_currencies"


class NotDeliverable(Conflict):
    """No location (nor two together, nor a warehouse later) can fill the basket: 409 with the
    per-line availability in `lines`."""

    code = "insufficient_stock"


class IdempotencyKeyRequired(DomainError):
    status_code = 400
    code = "idempotency_key_required"


class InvalidIdempotencyKey(DomainError):
    status_code = 400
    code = "invalid_idempotency_key"


class IdempotencyKeyReused(InvalidInput):
    """Same key, different body: the client mixed up two checkouts."""

    code = "idempotency_key_reused"


class RequestInProgress(Conflict):
    """A checkout with this key is running right now; retry shortly for its response."""

    code = "request_in_progress"


class CancelNotAllowed(Conflict):
    code = "cancel_not_allowed"


class PickingNotStarted(Conflict):
    code = "picking_not_started"


class LineAlreadyDone(Conflict):
    code = "line_already_done"


class LinesOpen(Conflict):
    code = "lines_open"


class SubstitutionNotAllowed(InvalidInput):
    code = "substitution_not_allowed"


class NoSubstitutionPending(Conflict):
    code = "no_substitution_pending"
