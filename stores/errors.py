"""Errors of the network domain, each with the machine-readable code a client can act on."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput, NotFound


class LocationNotFound(NotFound):
    code = "location_not_found"


class ZoneNotSet(NotFound):
    code = "zone_not_set"


class LocationCodeTaken(Conflict):
    code = "location_code_taken"


class InvalidParent(InvalidInput):
    code = "invalid_parent"


class InvalidOpeningHours(InvalidInput):
    code = "invalid_opening_hours"


class InvalidTimezone(InvalidInput):
    code = "invalid_timezone"


class InvalidCoordinates(InvalidInput):
    code = "invalid_coordinates"


class CoordinatesPossiblySwapped(InvalidInput):
    """The input is valid as given, but only makes sense with lat and lon the other way round."""

    code = "coordinates_possibly_swapped"


class InvalidZone(InvalidInput):
    code = "invalid_zone"


class InvalidZoneType(InvalidZone):
    code = "invalid_zone_type"


class ZoneTooComplex(InvalidZone):
    code = "zone_too_complex"


class ZoneNotAllowed(InvalidInput):
    """Only customer-facing locations deliver to an area; a zone elsewhere would be ignored."""

    code = "zone_not_allowed"
