"""Errors of transfers and replenishment, each with the code clients can act on."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput, NotFound


class TransferNotFound(NotFound):
    # Also what staff of another location get: they must not learn that the transfer exists.
    code = "transfer_not_found"


class LocationNotFound(NotFound):
    code = "location_not_found"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class SameLocation(InvalidInput):
    code = "same_location"


class NotDownTheTiers(InvalidInput):
    code = "transfer_not_down_tiers"


class DuplicateSku(InvalidInput):
    code = "duplicate_sku"


class OverReceipt(InvalidInput):
    code = "over_receipt"


class ReceiptLinesMismatch(InvalidInput):
    code = "receipt_lines_mismatch"
