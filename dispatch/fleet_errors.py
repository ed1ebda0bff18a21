"""Errors of the fleet and dispatch use cases, each with the machine-readable code a client acts on."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, InvalidInput, NotFound


class NotACourier(Forbidden):
    code = "not_a_courier"


class CourierNotFound(NotFound):
    code = "courier_not_found"


class ZoneNotFound(NotFound):
    code = "zone_not_found"


class VehicleNotFound(NotFound):
    code = "vehicle_not_found"


class StopNotFound(NotFound):
    # Also what a courier gets for another courier's stop: it does not exist for them.
    code = "stop_not_found"


class OfferNotFound(NotFound):
    code = "offer_not_found"


class VehicleInUse(Conflict):
    code = "vehicle_in_use"


class NoPlannedShift(Conflict):
    code = "no_planned_shift"


class NotOnShift(Conflict):
    code = "not_on_shift"


class AlreadyOnShift(Conflict):
    code = "already_on_shift"


class GoodsOnBoard(Conflict):
    code = "goods_on_board"


class StopOutOfOrder(Conflict):
    code = "stop_not_ready"


class BagCountMismatch(InvalidInput):
    code = "bag_count_mismatch"


class ProofRequired(InvalidInput):
    code = "proof_of_delivery_required"


class WrongPin(InvalidInput):
    code = "wrong_pin"


class NotAssignable(Conflict):
    code = "not_assignable"


class LocationInOtherZone(Conflict):
    code = "location_in_other_zone"
