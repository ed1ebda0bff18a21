"""Property: any valid position survives create → GET bit for bit, as {lat, lon} and as [lon, lat]."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.auth.models import Role
from tests.factories import auth_headers

lats = st.floats(min_value=-90, max_value=90, allow_nan=False)
lons = st.floats(min_value=-180, max_value=180, allow_nan=False)


@pytest.fixture
def ops(make_user) -> dict[str, str]:
    return auth_headers(make_user(role=Role.dispatcher))


# One client and one rolled-back transaction serve every example; each example creates its own
# location under a fresh code, so examples do not interfere.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lat=lats, lon=lons)
def test_a_valid_position_round_trips_unchanged(client, ops, lat: float, lon: float) -> None:
    headers = ops
    payload = {
        "code": f"P-{uuid.uuid4().hex[:12]}",
        "name": "Point",
        "kind": "dark_store",
        "position": {"lat": lat, "lon": lon},
    }
    created = client.post("/ops/locations", json=payload, headers=headers)
    assert created.status_code == 201, created.text
    location_id = created.json()["id"]
    got = client.get(f"/ops/locations/{location_id}", headers=headers).json()
    assert got["position"] == {"lat": lat, "lon": lon}
    network = client.get("/ops/network.geojson", headers=headers).json()
    (shown,) = [f for f in network["features"] if f["properties"].get("id") == location_id]
    assert shown["geometry"]["coordinates"] == [lon, lat]
