"""The city map layer: streets for every signed-in role, stores and zones for everyone, the rest of
the network for operators only; the board (couriers, open orders, routes) for operators only."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import pytest

from core.auth.models import Role
from dispatch import city_map, cycle
from dispatch.street_travel import set_travel_times
from routing.street_graph import StreetGraph
from routing.synthetic_city import synthetic_city
from stores.models import LocationKind
from tests.dispatch import fleet_world as fw
from tests.factories import auth_headers, create_location, create_user


@pytest.fixture
def no_seeded_city(client) -> Iterator[None]:
    """No seeded city unless a test names one (after `client`: create_app registers the demo's)."""
    previous = city_map._seeded_streets
    city_map.use_seeded_city_streets(None)
    yield
    city_map.use_seeded_city_streets(previous)


@pytest.fixture
def network(db_session, no_seeded_city) -> dict[str, Any]:
    dc = create_location(db_session, kind=LocationKind.distribution_centre, lat=52.50, lon=13.38, with_zone=False)
    store = create_location(db_session, lat=52.52, lon=13.405, parent=dc)
    closed = create_location(db_session, lat=52.53, lon=13.42, parent=dc, active=False)
    return {"dc": dc, "store": store, "closed": closed}


def _features(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in body["features"] if f["properties"].get("feature") == kind]


def _codes(body: dict[str, Any]) -> set[str]:
    return {f["properties"]["code"] for f in _features(body, "location")}


def _street_bounds(body: dict[str, Any]) -> tuple[float, float, float, float]:
    points = [p for f in _features(body, "streets") for line in f["geometry"]["coordinates"] for p in line]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lats), min(lons), max(lats), max(lons)


def test_operator_sees_streets_around_the_whole_network(client, db_session, network) -> None:
    ops = auth_headers(create_user(db_session, role=Role.dispatcher))
    response = client.get("/ops/city.geojson", headers=ops)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["properties"]["streets_source"] == "synthetic"
    streets = _features(body, "streets")
    assert {f["geometry"]["type"] for f in streets} == {"MultiLineString"}
    assert "residential" in {f["properties"]["highway"] for f in streets}
    south, west, north, east = _street_bounds(body)
    for loc in network.values():
        assert south < loc.lat < north
        assert west < loc.lon < east
    assert _codes(body) == {loc.code for loc in network.values()}
    assert {f["properties"]["code"] for f in _features(body, "service_zone")} == {
        network["store"].code,
        network["closed"].code,
    }


def test_customer_sees_open_stores_and_their_zones_only(client, db_session, network) -> None:
    customer = auth_headers(create_user(db_session))
    body = client.get("/ops/city.geojson", headers=customer).json()
    assert _codes(body) == {network["store"].code}
    assert {f["properties"]["code"] for f in _features(body, "service_zone")} == {network["store"].code}
    assert _features(body, "streets")


def test_the_street_layer_is_gzipped_when_asked_and_needs_a_sign_in(client, db_session, network) -> None:
    courier = auth_headers(create_user(db_session, role=Role.courier))
    raw = client.get("/ops/city.geojson", headers={**courier, "Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    plain = client.get("/ops/city.geojson", headers={**courier, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert len(plain.content) > 4 * int(raw.headers["content-length"])
    assert gzip.decompress(gzip.compress(plain.content)) == plain.content
    anonymous = client.get("/ops/city.geojson")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")


@pytest.fixture
def street_graph() -> Iterator[StreetGraph]:
    graph = StreetGraph.from_network(synthetic_city(3, 2.0, center=(52.40, 13.20)))
    set_travel_times(graph)
    yield graph
    set_travel_times(None)


def test_streets_come_from_the_routing_graph_when_dispatch_has_one(client, db_session, network, street_graph) -> None:
    ops = auth_headers(create_user(db_session, role=Role.admin))
    body = client.get("/ops/city.geojson", headers=ops).json()
    assert body["properties"]["streets_source"] == "street_graph"
    south, west, north, east = _street_bounds(body)
    lat, lon = street_graph.network.lat, street_graph.network.lon
    assert (south, west, north, east) == pytest.approx((lat.min(), lon.min(), lat.max(), lon.max()), abs=2e-5)


def test_board_shows_couriers_open_orders_and_planned_routes_to_operators_only(client, db_session) -> None:
    fleet = fw.build(db_session)
    courier = fw.add_courier(db_session, fleet, lat=52.52, lon=13.40)
    oid = fw.order(db_session, fleet, lat=52.523, lon=13.402)
    fw.pack(db_session, fleet, oid)
    cycle.run_zone(fleet.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.3)
    customer = auth_headers(fleet.customer)
    assert client.get("/ops/board.geojson", headers=customer).status_code == 403
    ops = auth_headers(create_user(db_session, role=Role.dispatcher))
    body = client.get("/ops/board.geojson", headers=ops).json()
    (courier_feature,) = _features(body, "courier")
    assert courier_feature["properties"]["id"] == str(courier.id)
    assert courier_feature["properties"]["status"] == "on_route"
    (order_feature,) = _features(body, "order")
    assert order_feature["properties"] | {"id": str(oid), "status": "assigned"} == order_feature["properties"]
    assert order_feature["geometry"]["coordinates"] == [13.402, 52.523]
    (route,) = _features(body, "route")
    coords = route["geometry"]["coordinates"]
    assert coords[0] == [13.40, 52.52]
    assert coords[-1] == [13.402, 52.523]
    assert len(coords) == 3


def test_streets_are_the_seeded_citys_when_they_cover_every_location(client, db_session, network) -> None:
    ops = auth_headers(create_user(db_session, role=Role.dispatcher))
    covering = synthetic_city(5, 6.0, center=(52.515, 13.40))
    city_map.use_seeded_city_streets(lambda: covering)
    body = client.get("/ops/city.geojson", headers=ops).json()
    assert body["properties"]["streets_source"] == "seeded_city"
    assert _street_bounds(body) == pytest.approx(
        (covering.lat.min(), covering.lon.min(), covering.lat.max(), covering.lon.max()), abs=2e-5
    )
    elsewhere = synthetic_city(5, 2.0, center=(48.85, 2.35))
    city_map.use_seeded_city_streets(lambda: elsewhere)
    assert client.get("/ops/city.geojson", headers=ops).json()["properties"]["streets_source"] == "synthetic"
