"""Deny by default, role checks, and bad input that must never become a 500."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from sqlalchemy import text

from core.auth.models import Role
from core.auth.tokens import Principal
from core.http.deps import DbSession, RoleGuard, allow, public
from o2o.app import create_app
from tests.factories import auth_headers

# Routes that FastAPI itself adds for the interactive documentation.
DOC_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _guards(dependant) -> set[object]:
    found: set[object] = set()
    for dep in dependant.dependencies:
        if isinstance(dep.call, RoleGuard) or dep.call is public:
            found.add(dep.call)
        found |= _guards(dep)
    return found


def test_every_route_declares_who_may_call_it() -> None:
    app = create_app()
    unguarded = []
    for route in app.routes:
        if not isinstance(route, APIRoute | APIWebSocketRoute) or route.path in DOC_ROUTES:
            continue
        if not _guards(route.dependant):
            unguarded.append(route.path)
    assert unguarded == []


def _app_with_admin_route(client_app: FastAPI) -> FastAPI:
    router = APIRouter()

    @router.get("/test-only/admin")
    def admin_only(principal: Annotated[Principal, Depends(allow(Role.admin))]) -> dict[str, str]:
        return {"role": principal.role.value}

    @router.post("/test-only/break-a-rule", dependencies=[Depends(allow(Role.admin))])
    def break_a_rule(session: DbSession) -> None:
        # A staff account without a location violates a CHECK constraint in the database.
        session.execute(
            text(
                "INSERT INTO users (id, email, password_hash, role, display_name, active, created_at)"
                " VALUES (gen_random_uuid(), 'x@example.test', 'x', 'staff', '', true, now())"
            )
        )
        session.flush()

    client_app.include_router(router)
    return client_app


def test_wrong_role_is_403_and_right_role_passes(app: FastAPI, make_user) -> None:
    client = TestClient(_app_with_admin_route(app))
    customer, admin = make_user(role=Role.customer), make_user(role=Role.admin)
    denied = client.get("/test-only/admin", headers=auth_headers(customer))
    assert denied.status_code == 403
    assert denied.json()["code"] == "forbidden_role"
    assert client.get("/test-only/admin", headers=auth_headers(admin)).json() == {"role": "admin"}


def test_a_database_rule_violation_is_a_409_not_a_500(app: FastAPI, make_user) -> None:
    client = TestClient(_app_with_admin_route(app), raise_server_exceptions=False)
    response = client.post("/test-only/break-a-rule", headers=auth_headers(make_user(role=Role.admin)))
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "check_violation"
    assert response.json()["constraint"] == "ck_users_staff_has_location"


def test_request_body_over_one_mebibyte_is_413(client: TestClient) -> None:
    big = b'{"email": "a@b.test", "password": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post("/auth/register", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_a_chunked_body_over_the_limit_is_413_too(client: TestClient) -> None:
    def chunks():
        for _ in range(20):
            yield b"x" * 65536

    response = client.post("/auth/register", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_malformed_json_is_never_a_500(client: TestClient) -> None:
    bodies = [b"{", b"null", b"[]", b'"text"', b"\xff\xfe", b'{"email": NaN}', b"{}" * 1000, b""]
    for body in bodies:
        response = client.post("/auth/register", content=body, headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500, body
        assert response.headers["content-type"] == "application/problem+json"
        assert "code" in response.json()


def test_unknown_route_and_wrong_method_are_problem_json(client: TestClient) -> None:
    missing = client.get("/no/such/route")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong = client.get("/auth/token")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"


def test_extras_of_a_domain_error_never_overwrite_the_problem_members(app: FastAPI) -> None:
    from core.errors import Conflict

    router = APIRouter()

    @router.get("/test-only/conflict", dependencies=[Depends(public)])
    def conflict() -> None:
        raise Conflict("Order is already packed.", code="invalid_transition", status="packed", title="x")

    app.include_router(router)
    response = TestClient(app, raise_server_exceptions=False).get("/test-only/conflict")
    assert response.status_code == 409
    assert response.json()["status"] == 409
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["title"] == "Conflict"
