"""Service zones go in and come out as GeoJSON, [lon, lat]; every defect is a coded 422, never a repair."""

from __future__ import annotations

import math
from typing import Any

import pytest

from core.auth.models import Role
from stores.models import LocationKind
from tests.factories import auth_headers, create_location, square_zone
from tests.problems import check_problem

# A rectangle over central Berlin: lon 13.38–13.43, lat 52.51–52.53.
RING = [[13.38, 52.51], [13.43, 52.51], [13.43, 52.53], [13.38, 52.53], [13.38, 52.51]]
POLYGON = {"type": "Polygon", "coordinates": [RING]}


@pytest.fixture
def ops(make_user) -> dict[str, str]:
    return auth_headers(make_user(role=Role.admin))


@pytest.fixture
def store(db_session):
    return create_location(db_session, with_zone=False)


def put_zone(client, ops, location, zone):
    return client.put(f"/ops/locations/{location.id}/zone", json=zone, headers=ops)


def check_zone_problem(response: Any, code: str, status: int = 422) -> dict[str, Any]:
    return check_problem(response, status, code)


def circle(lat: float, lon: float, radius_deg: float, n: int) -> list[list[float]]:
    ring = [
        [lon + radius_deg * math.cos(2 * math.pi * i / n), lat + radius_deg * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]
    return [*ring, ring[0]]


# --- round trip ----------------------------------------------------------------------------------


def test_a_polygon_round_trips_as_a_multipolygon_in_lon_lat_order(client, ops, store) -> None:
    put = put_zone(client, ops, store, POLYGON)
    assert put.status_code == 200, put.text
    assert put.headers["content-type"] == "application/geo+json"
    got = client.get(f"/ops/locations/{store.id}/zone", headers=ops)
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/geo+json"
    zone = got.json()
    assert zone == put.json()
    assert zone["type"] == "Feature"
    assert zone["properties"]["location_id"] == str(store.id)
    assert zone["geometry"] == {"type": "MultiPolygon", "coordinates": [[RING]]}
    first_lon, first_lat = zone["geometry"]["coordinates"][0][0][0]
    assert (first_lon, first_lat) == (13.38, 52.51)
    assert client.get(f"/ops/locations/{store.id}", headers=ops).json()["has_zone"] is True


def test_a_feature_and_a_multipolygon_with_a_hole_are_accepted_unchanged(client, ops, store) -> None:
    hole = [[13.40, 52.515], [13.40, 52.525], [13.41, 52.525], [13.41, 52.515], [13.40, 52.515]]
    second = [[13.50, 52.51], [13.52, 52.51], [13.52, 52.52], [13.50, 52.51]]
    multi = {"type": "MultiPolygon", "coordinates": [[RING, hole], [second]]}
    wrapped = {"type": "Feature", "properties": {"name": "Mitte"}, "geometry": multi}
    assert put_zone(client, ops, store, wrapped).status_code == 200
    assert client.get(f"/ops/locations/{store.id}/zone", headers=ops).json()["geometry"] == multi


def test_an_altitude_is_dropped_not_refused(client, ops, store) -> None:
    with_z = {"type": "Polygon", "coordinates": [[[*p, 34.0] for p in RING]]}
    assert put_zone(client, ops, store, with_z).json()["geometry"]["coordinates"] == [[RING]]


def test_a_zone_can_be_replaced_and_removed(client, ops, store) -> None:
    assert put_zone(client, ops, store, POLYGON).status_code == 200
    moved = {"type": "Polygon", "coordinates": [[[lon + 0.01, lat] for lon, lat in RING]]}
    assert put_zone(client, ops, store, moved).json()["geometry"]["coordinates"] == [moved["coordinates"]]
    assert client.delete(f"/ops/locations/{store.id}/zone", headers=ops).status_code == 204
    check_zone_problem(client.get(f"/ops/locations/{store.id}/zone", headers=ops), "zone_not_set", 404)


def test_a_location_without_a_zone_has_none_to_show(client, ops, store) -> None:
    check_zone_problem(client.get(f"/ops/locations/{store.id}/zone", headers=ops), "zone_not_set", 404)


def test_warehouses_and_stations_do_not_take_zones(client, ops, db_session) -> None:
    for kind in (LocationKind.central_warehouse, LocationKind.delivery_station):
        location = create_location(db_session, kind=kind, with_zone=False)
        check_zone_problem(put_zone(client, ops, location, POLYGON), "zone_not_allowed")


def test_a_zone_for_an_unknown_location_is_404(client, ops) -> None:
    response = client.put("/ops/locations/00000000-0000-0000-0000-000000000000/zone", json=POLYGON, headers=ops)
    check_zone_problem(response, "location_not_found", 404)


# --- invalid shapes ------------------------------------------------------------------------------


def test_a_bowtie_is_refused_with_postgis_reason(client, ops, store) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[13.0, 52.0], [13.1, 52.1], [13.1, 52.0], [13.0, 52.1], [13.0, 52.0]]],
    }
    problem = check_zone_problem(put_zone(client, ops, store, bowtie), "invalid_zone")
    assert "Self-intersection" in problem["detail"]
    assert problem["reason"].startswith("Self-intersection")
    # Nothing was stored, repaired or otherwise.
    check_zone_problem(client.get(f"/ops/locations/{store.id}/zone", headers=ops), "zone_not_set", 404)


@pytest.mark.parametrize(
    ("coordinates", "expected"),
    [
        ([[[13.38, 52.51], [13.43, 52.51], [13.43, 52.53], [13.38, 52.53]]], "not closed"),
        ([[[13.38, 52.51], [13.43, 52.51], [13.38, 52.51]]], "at least 4"),
        ([[[13.0, 52.0], [13.1, 52.1], [13.2, 52.2], [13.0, 52.0]]], "Self-intersection"),
        ([[[13.0, 52.0], [13.1, 52.1], [13.0, 52.0], [13.0, 52.0]]], "Too few points"),
        ([[]], "at least 4"),
        ([], "non-empty list"),
        ([[[13.0, 52.0, 1.0, 2.0], [13.1, 52.1], [13.2, 52.2], [13.0, 52.0]]], "a position is"),
        ([[[13.0], [13.1, 52.1], [13.2, 52.2], [13.0]]], "a position is"),
        ("not a list", "non-empty list"),
        ([[RING, RING, RING, RING]], "a position is"),
    ],
)
def test_malformed_and_degenerate_rings_are_invalid_zones(client, ops, store, coordinates, expected) -> None:
    problem = check_zone_problem(
        put_zone(client, ops, store, {"type": "Polygon", "coordinates": coordinates}), "invalid_zone"
    )
    assert expected in problem["detail"]


def test_a_hole_outside_its_shell_is_refused(client, ops, store) -> None:
    outside = [[14.0, 53.0], [14.0, 53.1], [14.1, 53.1], [14.1, 53.0], [14.0, 53.0]]
    problem = check_zone_problem(
        put_zone(client, ops, store, {"type": "Polygon", "coordinates": [RING, outside]}), "invalid_zone"
    )
    assert "Hole lies outside shell" in problem["reason"]


def test_overlapping_parts_of_a_multipolygon_are_refused(client, ops, store) -> None:
    shifted = [[lon + 0.01, lat] for lon, lat in RING]
    check_zone_problem(
        put_zone(client, ops, store, {"type": "MultiPolygon", "coordinates": [[RING], [shifted]]}), "invalid_zone"
    )


@pytest.mark.parametrize(
    "zone",
    [
        {"type": "Point", "coordinates": [13.4, 52.5]},
        {"type": "LineString", "coordinates": RING},
        {"type": "GeometryCollection", "geometries": [POLYGON]},
        {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": POLYGON, "properties": {}}]},
        {"type": "Feature", "geometry": None, "properties": {}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [13.4, 52.5]}, "properties": {}},
        {"coordinates": [RING]},
        {"type": "polygon", "coordinates": [RING]},
    ],
)
def test_anything_but_a_polygon_or_multipolygon_is_the_wrong_type(client, ops, store, zone) -> None:
    check_zone_problem(put_zone(client, ops, store, zone), "invalid_zone_type")


def test_a_body_that_is_not_an_object_is_a_schema_error(client, ops, store) -> None:
    check_zone_problem(client.put(f"/ops/locations/{store.id}/zone", json=[RING], headers=ops), "invalid_request")


@pytest.mark.parametrize(
    "bad_position",
    [
        "[13.4, 95.0]",
        "[190.0, 52.5]",
        "[NaN, 52.5]",
        "[13.4, Infinity]",
        '["13.4", 52.5]',
        "[true, 52.5]",
        "[null, 52.5]",
    ],
)
def test_bad_coordinates_inside_a_zone_are_invalid_coordinates(client, ops, store, bad_position) -> None:
    ring = "[[13.38, 52.51], " + bad_position + ", [13.43, 52.53], [13.38, 52.51]]"
    payload = '{"type": "Polygon", "coordinates": [' + ring + "]}"
    response = client.put(
        f"/ops/locations/{store.id}/zone", content=payload, headers={**ops, "content-type": "application/json"}
    )
    check_zone_problem(response, "invalid_coordinates")


def test_more_than_ten_thousand_vertices_is_too_complex(client, ops, store) -> None:
    huge = {"type": "Polygon", "coordinates": [circle(52.52, 13.405, 0.02, 10_000)]}
    problem = check_zone_problem(put_zone(client, ops, store, huge), "zone_too_complex")
    assert problem["max_vertices"] == 10_000
    fine = {"type": "Polygon", "coordinates": [circle(52.52, 13.405, 0.02, 5_000)]}
    assert put_zone(client, ops, store, fine).status_code == 200


# --- swapped coordinates -------------------------------------------------------------------------


def swapped(ring: list[list[float]]) -> list[list[float]]:
    return [[lat, lon] for lon, lat in ring]


def test_a_zone_that_only_fits_the_network_when_swapped_is_reported(client, ops, db_session, store) -> None:
    create_location(db_session, zone=square_zone(52.52, 13.405))  # the existing network
    problem = check_zone_problem(
        put_zone(client, ops, store, {"type": "Polygon", "coordinates": [swapped(RING)]}),
        "coordinates_possibly_swapped",
    )
    assert "[lon, lat]" in problem["detail"]
    assert put_zone(client, ops, store, POLYGON).status_code == 200


def test_replacing_a_zone_with_its_swapped_twin_is_reported(client, ops, store) -> None:
    assert put_zone(client, ops, store, POLYGON).status_code == 200
    check_zone_problem(
        put_zone(client, ops, store, {"type": "Polygon", "coordinates": [swapped(RING)]}),
        "coordinates_possibly_swapped",
    )


def test_a_zone_away_from_the_network_is_fine_when_its_swap_is_too(client, ops, db_session, store) -> None:
    create_location(db_session, zone=square_zone(52.52, 13.405))
    munich = square_zone(48.137, 11.575)["coordinates"][0]
    assert put_zone(client, ops, store, {"type": "Polygon", "coordinates": munich}).status_code == 200


def test_a_zone_whose_swap_is_no_position_is_judged_as_given(client, ops, db_session, store) -> None:
    create_location(db_session, zone=square_zone(52.52, 13.405))
    # Longitudes beyond ±90 cannot be latitudes: no swap is suspected.
    pacific = [[170.0, 10.0], [171.0, 10.0], [171.0, 11.0], [170.0, 11.0], [170.0, 10.0]]
    assert put_zone(client, ops, store, {"type": "Polygon", "coordinates": [pacific]}).status_code == 200


# --- network overview ----------------------------------------------------------------------------


def test_the_network_overview_shows_every_location_and_zone(client, ops, db_session) -> None:
    central = create_location(db_session, kind=LocationKind.central_warehouse, lat=52.40, lon=13.20, with_zone=False)
    dc = create_location(db_session, kind=LocationKind.distribution_centre, parent=central, lat=52.45, lon=13.30)
    store = create_location(db_session, parent=dc, lat=52.52, lon=13.405, active=False)
    response = client.get("/ops/network.geojson", headers=ops)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    points = {f["properties"]["code"]: f for f in collection["features"] if f["properties"]["feature"] == "location"}
    zones = {f["properties"]["code"]: f for f in collection["features"] if f["properties"]["feature"] == "service_zone"}
    assert set(points) == {central.code, dc.code, store.code}
    assert set(zones) == {dc.code, store.code}
    shown = points[store.code]
    assert shown["geometry"] == {"type": "Point", "coordinates": [13.405, 52.52]}
    assert shown["properties"]["kind"] == "store"
    assert shown["properties"]["parent"] == dc.code
    assert shown["properties"]["active"] is False
    assert points[central.code]["properties"]["parent"] is None
    assert zones[dc.code]["geometry"]["type"] == "MultiPolygon"
    assert zones[dc.code]["geometry"]["coordinates"] == [square_zone(52.45, 13.30)["coordinates"][0]]
