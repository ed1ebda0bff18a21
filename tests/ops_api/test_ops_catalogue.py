"""`/ops/categories` and `/ops/skus` over HTTP: CRUD for dispatchers and admins, bounded input,
problem+json codes for every refusal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.auth.models import Role
from tests.factories import auth_headers, create_location
from tests.problems import check_problem

PROBLEM = "application/problem+json"


@pytest.fixture
def admin(make_user):
    return auth_headers(make_user(role=Role.admin))


def _slug() -> str:
    return f"cat-{uuid.uuid4().hex[:8]}"


def _sku_body(category_id: str, **extra) -> dict[str, Any]:
    body = {
        "code": f"SKU-{uuid.uuid4().hex[:8]}",
        "name": "Oat milk 1 l",
        "category_id": category_id,
        "price_minor": 219,
        "weight_g": 1040,
        "volume_ml": 1000,
        "temperature": "chilled",
        "max_order_qty": 12,
    }
    return {**body, **extra}


def test_category_crud_and_tree(client, admin) -> None:
    top = client.post("/ops/categories", json={"slug": _slug(), "name": "Drinks"}, headers=admin)
    assert top.status_code == 201, top.text
    top_id = top.json()["id"]
    child = client.post("/ops/categories", json={"slug": _slug(), "name": "Milk", "parent_id": top_id}, headers=admin)
    child_id = child.json()["id"]
    tree = {node["id"]: node for node in client.get("/ops/categories", headers=admin).json()}
    assert [c["id"] for c in tree[top_id]["children"]] == [child_id]

    renamed = client.patch(f"/ops/categories/{child_id}", json={"name": "Dairy", "pick_sequence": 3}, headers=admin)
    assert (renamed.json()["name"], renamed.json()["parent_id"]) == ("Dairy", top_id)
    cycle = client.patch(f"/ops/categories/{top_id}", json={"parent_id": child_id}, headers=admin)
    check_problem(cycle, 422, "category_cycle")
    check_problem(client.delete(f"/ops/categories/{top_id}", headers=admin), 409, "category_has_children")
    assert client.delete(f"/ops/categories/{child_id}", headers=admin).status_code == 204
    check_problem(client.get(f"/ops/categories/{child_id}", headers=admin), 404, "category_not_found")


def test_category_input_is_checked(client, admin) -> None:
    slug = _slug()
    client.post("/ops/categories", json={"slug": slug, "name": "Bakery"}, headers=admin)
    check_problem(
        client.post("/ops/categories", json={"slug": slug, "name": "Again"}, headers=admin), 409, "category_slug_taken"
    )
    for bad in (
        {"slug": "Not A Slug", "name": "x"},
        {"slug": _slug(), "name": ""},
        {"slug": _slug(), "name": "x", "pick_sequence": -1},
        {"slug": _slug(), "name": "x", "surprise": 1},
    ):
        check_problem(client.post("/ops/categories", json=bad, headers=admin), 422, "invalid_request")
    orphan = {"slug": _slug(), "name": "x", "parent_id": str(uuid.uuid4())}
    check_problem(client.post("/ops/categories", json=orphan, headers=admin), 422, "unknown_category")


def test_sku_crud(client, admin) -> None:
    category = client.post("/ops/categories", json={"slug": _slug(), "name": "Milk"}, headers=admin).json()["id"]
    created = client.post("/ops/skus", json=_sku_body(category), headers=admin)
    assert created.status_code == 201, created.text
    sku = created.json()
    assert (sku["temperature"], sku["active"], sku["currency"]) == ("chilled", True, "EUR")
    assert client.get(f"/ops/skus/{sku['id']}", headers=admin).json()["code"] == sku["code"]

    patched = client.patch(f"/ops/skus/{sku['id']}", json={"price_minor": 239, "active": False}, headers=admin).json()
    assert (patched["price_minor"], patched["active"], patched["name"]) == (239, False, "Oat milk 1 l")
    listed = client.get("/ops/skus", params={"category_id": category, "active": False}, headers=admin).json()
    assert [s["id"] for s in listed["items"]] == [sku["id"]]
    found = client.get("/ops/skus", params={"q": sku["code"][4:]}, headers=admin).json()
    assert found["total"] == 1

    check_problem(
        client.post("/ops/skus", json={**_sku_body(category), "code": sku["code"]}, headers=admin),
        409,
        "sku_code_taken",
    )
    check_problem(client.get(f"/ops/skus/{uuid.uuid4()}", headers=admin), 404, "sku_not_found")
    check_problem(client.patch(f"/ops/skus/{sku['id']}", json={"code": "NEW"}, headers=admin), 422, "invalid_request")


@pytest.mark.parametrize(
    "override",
    [
        {"price_minor": -1},
        {"price_minor": 10**12},
        {"weight_g": 0},
        {"max_order_qty": 1000},
        {"currency": "euro"},
        {"temperature": "lukewarm"},
        {"code": "has space"},
        {"name": "x" * 201},
    ],
)
def test_sku_input_is_bounded(client, admin, override) -> None:
    category = client.post("/ops/categories", json={"slug": _slug(), "name": "Milk"}, headers=admin).json()["id"]
    check_problem(client.post("/ops/skus", json=_sku_body(category, **override), headers=admin), 422, "invalid_request")


def test_a_sku_needs_a_real_category(client, admin) -> None:
    check_problem(client.post("/ops/skus", json=_sku_body(str(uuid.uuid4())), headers=admin), 422, "unknown_category")
    check_problem(client.get("/ops/skus", params={"limit": 101}, headers=admin), 422, "invalid_request")


@pytest.mark.parametrize("role", [Role.customer, Role.courier, Role.staff])
def test_only_dispatchers_and_admins_edit_the_catalogue(client, db_session, make_user, role) -> None:
    location = create_location(db_session).id if role is Role.staff else None
    headers = auth_headers(make_user(role=role, location_id=location))
    check_problem(client.get("/ops/categories", headers=headers), 403, "forbidden_role")
    check_problem(client.post("/ops/skus", json={}, headers=headers), 403, "forbidden_role")


def test_dispatchers_may_edit_too(client, make_user) -> None:
    headers = auth_headers(make_user(role=Role.dispatcher))
    assert client.post("/ops/categories", json={"slug": _slug(), "name": "Snacks"}, headers=headers).status_code == 201
