"""Errors of the stock domain, each with the code clients can act on."""

from __future__ import annotations

from core.errors import Conflict, NotFound


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class UnknownStockLevel(NotFound):
    code = "stock_level_not_found"
