"""A new live simulation takes over the stores that an earlier, stopped one left in its zones;
zones an operator made are never touched."""

from __future__ import annotations

import pytest

from dispatch import couriers as fleet
from dispatch.fleet_errors import LocationInOtherZone
from dispatch.fleet_schemas import ZoneIn
from tests.factories import create_location


def test_stores_leave_only_the_zones_with_the_prefix(db_session) -> None:
    simulated, operated = create_location(db_session), create_location(db_session)
    fleet.create_zone(db_session, data=ZoneIn(code="SIM-old-1", name="Old run", location_ids=[simulated.id]))
    fleet.create_zone(db_session, data=ZoneIn(code="CENTRE", name="Centre", location_ids=[operated.id]))
    with pytest.raises(LocationInOtherZone):
        fleet.create_zone(db_session, data=ZoneIn(code="SIM-new-x", name="Too early", location_ids=[simulated.id]))

    removed = fleet.detach_locations(db_session, location_ids=[simulated.id, operated.id], zone_code_prefix="SIM-")

    assert removed == 1
    fleet.create_zone(db_session, data=ZoneIn(code="SIM-new-1", name="New run", location_ids=[simulated.id]))
    with pytest.raises(LocationInOtherZone):
        fleet.create_zone(db_session, data=ZoneIn(code="SIM-new-2", name="Not this", location_ids=[operated.id]))
