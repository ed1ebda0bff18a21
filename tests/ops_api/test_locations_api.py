"""Operators manage the network's locations: create, read, edit, list — and bad input is a coded 422."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.auth.models import Role
from stores.models import LocationKind
from tests.factories import auth_headers, create_location
from tests.problems import check_problem

BERLIN = {"lat": 52.52, "lon": 13.405}


@pytest.fixture
def ops(make_user) -> dict[str, str]:
    return auth_headers(make_user(role=Role.dispatcher))


def body(**overrides) -> dict[str, Any]:
    data = {
        "code": f"ST-{uuid.uuid4().hex[:8]}",
        "name": "Prenzlauer Berg",
        "kind": "store",
        "position": dict(BERLIN),
        "address": "Kastanienallee 1, 10435 Berlin",
        "timezone": "Europe/Berlin",
        "opening_hours": {"mon": [["08:00", "22:00"]], "sat": [["09:00", "13:00"], ["14:00", "20:00"]]},
        "pick_capacity": {"staff": 3, "seconds_per_line": 25, "pack_seconds": 60},
    }
    data.update(overrides)
    return data


# --- create and read -----------------------------------------------------------------------------


def test_an_operator_creates_a_store_and_reads_it_back(client, ops) -> None:
    sent = body()
    created = client.post("/ops/locations", json=sent, headers=ops)
    assert created.status_code == 201, created.text
    out = created.json()
    assert created.headers["location"] == f"/ops/locations/{out['id']}"
    assert out["code"] == sent["code"]
    assert out["kind"] == "store"
    assert out["tier"] == 2
    assert out["position"] == BERLIN
    assert out["timezone"] == "Europe/Berlin"
    assert out["pick_capacity"] == sent["pick_capacity"]
    assert out["active"] is True
    assert out["has_zone"] is False
    # Days not mentioned are closed once any day is given.
    assert out["opening_hours"]["mon"] == [["08:00", "22:00"]]
    assert out["opening_hours"]["sat"] == [["09:00", "13:00"], ["14:00", "20:00"]]
    assert out["opening_hours"]["sun"] == []
    assert client.get(f"/ops/locations/{out['id']}", headers=ops).json() == out


def test_a_whole_chain_of_tiers_can_be_built(client, ops) -> None:
    central = client.post("/ops/locations", json=body(kind="central_warehouse", opening_hours={}), headers=ops).json()
    dc = client.post("/ops/locations", json=body(kind="distribution_centre", parent_id=central["id"]), headers=ops)
    assert dc.status_code == 201, dc.text
    for kind in ("store", "dark_store", "delivery_station"):
        child = client.post("/ops/locations", json=body(kind=kind, parent_id=dc.json()["id"]), headers=ops)
        assert child.status_code == 201, child.text
        assert child.json()["parent_id"] == dc.json()["id"]
    # A store may also be supplied straight from the central warehouse (any higher tier).
    direct = client.post("/ops/locations", json=body(parent_id=central["id"]), headers=ops)
    assert direct.status_code == 201


def test_an_unknown_location_is_404(client, ops) -> None:
    problem = check_problem(client.get(f"/ops/locations/{uuid.uuid4()}", headers=ops), 404, "location_not_found")
    assert "location_id" in problem


def test_a_taken_code_is_409(client, ops) -> None:
    first = client.post("/ops/locations", json=body(code="ST-TAKEN"), headers=ops)
    assert first.status_code == 201
    check_problem(client.post("/ops/locations", json=body(code="ST-TAKEN"), headers=ops), 409, "location_code_taken")
    other = client.post("/ops/locations", json=body(), headers=ops).json()
    renamed = client.patch(f"/ops/locations/{other['id']}", json={"code": "ST-TAKEN"}, headers=ops)
    check_problem(renamed, 409, "location_code_taken")


# --- coordinates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_position",
    [
        '{"lat": 91, "lon": 13.4}',
        '{"lat": -90.0001, "lon": 13.4}',
        '{"lat": 52.5, "lon": 180.5}',
        '{"lat": 52.5, "lon": -181}',
        '{"lat": NaN, "lon": 13.4}',
        '{"lat": 52.5, "lon": Infinity}',
        '{"lat": -Infinity, "lon": 13.4}',
        '{"lat": "52.5", "lon": 13.4}',
        '{"lat": true, "lon": 13.4}',
        '{"lat": null, "lon": 13.4}',
        '{"lat": [52.5], "lon": 13.4}',
    ],
)
def test_bad_coordinates_are_422_invalid_coordinates(client, ops, raw_position: str) -> None:
    payload = '{"code": "ST-BAD", "name": "Bad", "kind": "store", "position": ' + raw_position + "}"
    response = client.post("/ops/locations", content=payload, headers={**ops, "content-type": "application/json"})
    check_problem(response, 422, "invalid_coordinates")


def test_a_latitude_beyond_90_next_to_a_plausible_one_hints_at_a_swap(client, ops) -> None:
    response = client.post("/ops/locations", json=body(position={"lat": 139.69, "lon": 35.68}), headers=ops)
    problem = check_problem(response, 422, "invalid_coordinates")
    assert "swapped" in problem["detail"]


def test_a_position_missing_a_field_or_with_extra_ones_is_a_schema_error(client, ops) -> None:
    for position in ({"lat": 52.5}, {"lat": 52.5, "lon": 13.4, "alt": 30}):
        check_problem(client.post("/ops/locations", json=body(position=position), headers=ops), 422, "invalid_request")


def test_a_position_that_only_makes_sense_swapped_is_reported(client, ops, db_session) -> None:
    create_location(db_session, lat=52.52, lon=13.405)  # the network: a zone around central Berlin
    swapped = client.post("/ops/locations", json=body(position={"lat": 13.41, "lon": 52.51}), headers=ops)
    problem = check_problem(swapped, 422, "coordinates_possibly_swapped")
    assert problem["suggested"] == {"lat": 52.51, "lon": 13.41}
    # The same point the right way round is accepted, and so is a place simply outside the network.
    assert (
        client.post("/ops/locations", json=body(position={"lat": 52.51, "lon": 13.41}), headers=ops).status_code == 201
    )
    munich = client.post("/ops/locations", json=body(position={"lat": 48.137, "lon": 11.575}), headers=ops)
    assert munich.status_code == 201


def test_moving_a_location_is_checked_the_same_way(client, ops, db_session) -> None:
    create_location(db_session, lat=52.52, lon=13.405)
    store = client.post("/ops/locations", json=body(), headers=ops).json()
    url = f"/ops/locations/{store['id']}"
    check_problem(
        client.patch(url, json={"position": {"lat": 13.41, "lon": 52.51}}, headers=ops),
        422,
        "coordinates_possibly_swapped",
    )
    check_problem(
        client.patch(url, json={"position": {"lat": 100, "lon": 13.4}}, headers=ops), 422, "invalid_coordinates"
    )
    moved = client.patch(url, json={"position": {"lat": 52.53, "lon": 13.39}}, headers=ops)
    assert moved.json()["position"] == {"lat": 52.53, "lon": 13.39}


# --- parents -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("child_kind", "parent_kind"),
    [
        (LocationKind.distribution_centre, LocationKind.store),
        (LocationKind.distribution_centre, LocationKind.distribution_centre),
        (LocationKind.store, LocationKind.store),
        (LocationKind.store, LocationKind.dark_store),
        (LocationKind.dark_store, LocationKind.delivery_station),
        (LocationKind.central_warehouse, LocationKind.distribution_centre),
        (LocationKind.central_warehouse, LocationKind.central_warehouse),
    ],
)
def test_a_parent_must_sit_on_a_strictly_higher_tier(client, ops, db_session, child_kind, parent_kind) -> None:
    parent = create_location(db_session, kind=parent_kind, with_zone=False)
    response = client.post("/ops/locations", json=body(kind=child_kind.value, parent_id=str(parent.id)), headers=ops)
    problem = check_problem(response, 422, "invalid_parent")
    assert "allowed_parent_kinds" in problem


def test_an_unknown_parent_is_invalid(client, ops) -> None:
    check_problem(
        client.post("/ops/locations", json=body(parent_id=str(uuid.uuid4())), headers=ops), 422, "invalid_parent"
    )


def test_no_location_can_become_its_own_ancestor(client, ops, db_session) -> None:
    central = create_location(db_session, kind=LocationKind.central_warehouse, with_zone=False)
    dc = create_location(db_session, kind=LocationKind.distribution_centre, parent=central, with_zone=False)
    own = client.patch(f"/ops/locations/{dc.id}", json={"parent_id": str(dc.id)}, headers=ops)
    check_problem(own, 422, "invalid_parent")
    loop = client.patch(f"/ops/locations/{central.id}", json={"parent_id": str(dc.id)}, headers=ops)
    check_problem(loop, 422, "invalid_parent")


def test_a_kind_change_must_keep_the_tiers_in_order(client, ops, db_session) -> None:
    central = create_location(db_session, kind=LocationKind.central_warehouse, with_zone=False)
    dc = create_location(db_session, kind=LocationKind.distribution_centre, parent=central, with_zone=False)
    create_location(db_session, kind=LocationKind.store, parent=dc)
    # Demoting the DC would put it on its children's tier.
    problem = check_problem(
        client.patch(f"/ops/locations/{dc.id}", json={"kind": "store"}, headers=ops), 422, "invalid_parent"
    )
    assert problem["child_kinds"] == ["store"]
    # Promoting it would put it on its own parent's tier.
    check_problem(
        client.patch(f"/ops/locations/{dc.id}", json={"kind": "central_warehouse"}, headers=ops), 422, "invalid_parent"
    )


def test_a_parent_can_be_changed_and_detached(client, ops, db_session) -> None:
    central = create_location(db_session, kind=LocationKind.central_warehouse, with_zone=False)
    dc1 = create_location(db_session, kind=LocationKind.distribution_centre, parent=central, with_zone=False)
    dc2 = create_location(db_session, kind=LocationKind.distribution_centre, parent=central, with_zone=False)
    store = create_location(db_session, parent=dc1)
    url = f"/ops/locations/{store.id}"
    assert client.patch(url, json={"parent_id": str(dc2.id)}, headers=ops).json()["parent_id"] == str(dc2.id)
    assert client.patch(url, json={"parent_id": None}, headers=ops).json()["parent_id"] is None


# --- time zone, opening hours, capacity ----------------------------------------------------------


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "../../etc/passwd", "", "europe/berlin", "CET+1"])
def test_an_unknown_time_zone_is_refused(client, ops, timezone: str) -> None:
    check_problem(client.post("/ops/locations", json=body(timezone=timezone), headers=ops), 422, "invalid_timezone")


@pytest.mark.parametrize(
    "hours",
    [
        {"monday": [["08:00", "22:00"]]},
        {"mon": [["8:00", "22:00"]]},
        {"mon": [["08:00", "25:00"]]},
        {"mon": [["08:60", "22:00"]]},
        {"mon": [["22:00", "08:00"]]},
        {"mon": [["08:00", "08:00"]]},
        {"mon": [["08:00", "14:00"], ["13:00", "22:00"]]},
        {"mon": [["14:00", "22:00"], ["08:00", "12:00"]]},
        {"mon": [["08:00"]]},
        {"mon": ["08:00-22:00"]},
        {"mon": "08:00-22:00"},
        {"mon": [[8, 22]]},
        {"mon": [["08:00", "09:00"]] * 7},
        ["mon", "08:00"],
    ],
)
def test_malformed_opening_hours_are_422(client, ops, hours) -> None:
    problem = check_problem(
        client.post("/ops/locations", json=body(opening_hours=hours), headers=ops), 422, "invalid_opening_hours"
    )
    assert problem["detail"]


def test_opening_hours_may_touch_and_may_run_to_midnight(client, ops) -> None:
    hours = {"fri": [["06:00", "12:00"], ["12:00", "24:00"]], "sat": [["00:00", "02:00"]]}
    created = client.post("/ops/locations", json=body(opening_hours=hours), headers=ops)
    assert created.status_code == 201, created.text
    assert created.json()["opening_hours"]["fri"] == hours["fri"]


@pytest.mark.parametrize(
    "capacity",
    [{"staff": -1}, {"staff": 501}, {"seconds_per_line": 0}, {"pack_seconds": -5}, {"staff": 1.5}, {"crew": 3}],
)
def test_pick_capacity_is_bounded(client, ops, capacity) -> None:
    check_problem(client.post("/ops/locations", json=body(pick_capacity=capacity), headers=ops), 422, "invalid_request")


@pytest.mark.parametrize(
    "override",
    [
        {"code": ""},
        {"code": "has space"},
        {"code": "X" * 33},
        {"name": ""},
        {"name": "n" * 121},
        {"kind": "shop"},
        {"address": "a" * 301},
    ],
)
def test_strings_and_kinds_are_bounded(client, ops, override) -> None:
    check_problem(client.post("/ops/locations", json=body(**override), headers=ops), 422, "invalid_request")


# --- edit ----------------------------------------------------------------------------------------


def test_an_edit_changes_only_what_it_sends(client, ops) -> None:
    before = client.post("/ops/locations", json=body(), headers=ops).json()
    after = client.patch(
        f"/ops/locations/{before['id']}",
        json={
            "name": "Renamed",
            "active": False,
            "pick_capacity": {"staff": 5, "seconds_per_line": 20, "pack_seconds": 40},
        },
        headers=ops,
    ).json()
    assert after["name"] == "Renamed"
    assert after["active"] is False
    assert after["pick_capacity"] == {"staff": 5, "seconds_per_line": 20, "pack_seconds": 40}
    unchanged = {k: v for k, v in before.items() if k not in {"name", "active", "pick_capacity", "updated_at"}}
    assert {k: after[k] for k in unchanged} == unchanged


def test_an_edit_cannot_null_a_required_field(client, ops) -> None:
    store = client.post("/ops/locations", json=body(), headers=ops).json()
    for field in ("position", "name", "kind", "opening_hours", "active"):
        response = client.patch(f"/ops/locations/{store['id']}", json={field: None}, headers=ops)
        check_problem(response, 422, "invalid_request")


def test_edits_validate_hours_and_time_zone(client, ops) -> None:
    store = client.post("/ops/locations", json=body(), headers=ops).json()
    url = f"/ops/locations/{store['id']}"
    check_problem(client.patch(url, json={"timezone": "Nowhere/Else"}, headers=ops), 422, "invalid_timezone")
    check_problem(
        client.patch(url, json={"opening_hours": {"sun": [["10", "18"]]}}, headers=ops), 422, "invalid_opening_hours"
    )
    changed = client.patch(url, json={"timezone": "Europe/Lisbon", "opening_hours": {}}, headers=ops).json()
    assert (changed["timezone"], changed["opening_hours"]) == ("Europe/Lisbon", {})


# --- list ----------------------------------------------------------------------------------------


def test_the_list_pages_filters_and_searches(client, ops, db_session) -> None:
    central = create_location(db_session, kind=LocationKind.central_warehouse, code="LIST-CW", with_zone=False)
    for i in range(5):
        create_location(db_session, code=f"LIST-ST-{i}", parent=central, active=i != 4)
    page = client.get("/ops/locations", params={"q": "list-st", "limit": 2, "offset": 2}, headers=ops).json()
    assert page["total"] == 5
    assert (page["limit"], page["offset"]) == (2, 2)
    assert [item["code"] for item in page["items"]] == ["LIST-ST-2", "LIST-ST-3"]
    inactive = client.get("/ops/locations", params={"q": "LIST-", "active": False}, headers=ops).json()
    assert [item["code"] for item in inactive["items"]] == ["LIST-ST-4"]
    warehouses = client.get("/ops/locations", params={"kind": "central_warehouse", "q": "LIST"}, headers=ops).json()
    assert [item["code"] for item in warehouses["items"]] == ["LIST-CW"]
    children = client.get("/ops/locations", params={"parent_id": str(central.id)}, headers=ops).json()
    assert children["total"] == 5


def test_search_treats_wildcards_literally(client, ops, db_session) -> None:
    create_location(db_session, code="PCT-1")
    assert client.get("/ops/locations", params={"q": "%"}, headers=ops).json()["total"] == 0


@pytest.mark.parametrize("params", [{"limit": 101}, {"limit": 0}, {"offset": -1}, {"kind": "shop"}, {"q": "x" * 101}])
def test_page_size_is_at_most_100(client, ops, params) -> None:
    check_problem(client.get("/ops/locations", params=params, headers=ops), 422, "invalid_request")


# --- who may call --------------------------------------------------------------------------------


def _routes(location_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    zone = {"type": "Polygon", "coordinates": [[[13.3, 52.5], [13.4, 52.5], [13.4, 52.6], [13.3, 52.5]]]}
    return [
        ("GET", "/ops/locations", None),
        ("POST", "/ops/locations", body()),
        ("GET", f"/ops/locations/{location_id}", None),
        ("PATCH", f"/ops/locations/{location_id}", {"name": "x"}),
        ("GET", f"/ops/locations/{location_id}/zone", None),
        ("PUT", f"/ops/locations/{location_id}/zone", zone),
        ("DELETE", f"/ops/locations/{location_id}/zone", None),
        ("GET", "/ops/network.geojson", None),
    ]


def test_anonymous_callers_get_401_everywhere(client, db_session) -> None:
    store = create_location(db_session)
    for method, path, payload in _routes(str(store.id)):
        response = client.request(method, path, json=payload)
        check_problem(response, 401, "not_authenticated")


@pytest.mark.parametrize("role", [Role.customer, Role.courier, Role.staff])
def test_customers_couriers_and_staff_get_403_everywhere(client, db_session, make_user, role) -> None:
    store = create_location(db_session)
    user = make_user(role=role, location_id=store.id if role is Role.staff else None)
    for method, path, payload in _routes(str(store.id)):
        response = client.request(method, path, json=payload, headers=auth_headers(user))
        check_problem(response, 403, "forbidden_role")


@pytest.mark.parametrize("role", [Role.dispatcher, Role.admin])
def test_dispatchers_and_admins_are_let_in(client, db_session, make_user, role) -> None:
    store = create_location(db_session)
    headers = auth_headers(make_user(role=role))
    for method, path, payload in _routes(str(store.id)):
        response = client.request(method, path, json=payload, headers=headers)
        assert response.status_code not in (401, 403), (method, path, response.text)
