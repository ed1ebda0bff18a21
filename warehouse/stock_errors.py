"""Errors of the catalogue, stock operations and reservations, each with the code clients act on.

`InsufficientStock` (409 `insufficient_stock`) and `UnknownStockLevel` live in `warehouse.errors`
because the ledger raises them; everything here is raised by the use cases above the ledger.
"""

from __future__ import annotations

from core.errors import Conflict, InvalidInput, NotFound

# --- catalogue ---------------------------------------------------------------------------------


class CategoryNotFound(NotFound):
    code = "category_not_found"


class SkuNotFound(NotFound):
    code = "sku_not_found"


class LocationNotFound(NotFound):
    # Also what staff get for any location other than their own: they must not learn it exists.
    code = "location_not_found"


class UnknownReference(InvalidInput):
    """A body names something that does not exist (the URL itself was fine): 422, not 404.
    The code says what: `unknown_sku`, `unknown_category`, …"""

    code = "unknown_reference"


class CategorySlugTaken(Conflict):
    code = "category_slug_taken"


class SkuCodeTaken(Conflict):
    code = "sku_code_taken"


class CategoryCycle(InvalidInput):
    code = "category_cycle"


class CategoryTooDeep(InvalidInput):
    code = "category_too_deep"


class CategoryHasChildren(Conflict):
    code = "category_has_children"


class CategoryInUse(Conflict):
    code = "category_in_use"


# --- stock operations ------------------------------------------------------------------------------


class LevelOutOfRange(InvalidInput):
    """The result would not fit the level's counters (they are 32-bit, and no shelf holds a
    billion units: such input is a typo, not a delivery)."""

    code = "level_out_of_range"


class CountBelowReserved(Conflict):
    """A count lower than what open reservations hold: those orders must be shorted (picked short
    or released) first, because `reserved ≤ on_hand` is a database rule."""

    code = "count_below_reserved"


# --- reservations ----------------------------------------------------------------------------------


class ReservationNotFound(NotFound):
    code = "reservation_not_found"


class ReservationExpired(Conflict):
    code = "reservation_expired"


class ReservationClosed(Conflict):
    code = "reservation_closed"


class PickExceedsReservation(InvalidInput):
    code = "pick_exceeds_reservation"
