"""Accounts and tokens: who can get in, and every way a token can be wrong."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient

from core import clock
from core.auth.models import Role
from core.settings import get_settings
from tests.factories import DEFAULT_PASSWORD, auth_headers, token_for


def test_a_customer_registers_logs_in_and_reads_their_profile(client: TestClient) -> None:
    created = client.post("/auth/register", json={"email": "Ana@Example.test", "password": "long enough pw"})
    assert created.status_code == 201
    assert created.json()["email"] == "ana@example.test"
    assert created.json()["role"] == "customer"

    login = client.post("/auth/token", json={"email": "ana@example.test", "password": "long enough pw"})
    assert login.status_code == 200
    token = login.json()["access_token"]

    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["email"] == "ana@example.test"


def test_registering_an_existing_email_is_a_conflict(client: TestClient, make_user) -> None:
    make_user(email="taken@example.test")
    response = client.post("/auth/register", json={"email": "TAKEN@example.test", "password": "long enough pw"})
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


def test_registration_rejects_bad_input_with_problem_json(client: TestClient) -> None:
    for body in (
        {"email": "no-at-sign", "password": "long enough pw"},
        {"email": "a@b.test", "password": "short"},
        {"email": "a@b.test", "password": "long enough pw", "role": "admin"},
    ):
        response = client.post("/auth/register", json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_request"


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient, make_user) -> None:
    user = make_user()
    wrong = client.post("/auth/token", json={"email": user.email, "password": "not the password"})
    unknown = client.post("/auth/token", json={"email": "nobody@example.test", "password": DEFAULT_PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_a_deactivated_user_cannot_log_in_or_use_an_old_token(client: TestClient, make_user, db_session) -> None:
    user = make_user()
    headers = auth_headers(user)
    user.active = False
    db_session.flush()
    assert client.post("/auth/token", json={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 401
    assert client.get("/auth/me", headers=headers).status_code == 401


def test_missing_token_is_401(client: TestClient) -> None:
    response = client.get("/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_expired_token_is_401(client: TestClient, make_user) -> None:
    user = make_user()
    issued_at = datetime(2026, 1, 1, tzinfo=UTC)
    with clock.use_clock(lambda: issued_at):
        token = token_for(user, ttl_s=60)
    with clock.use_clock(lambda: issued_at + timedelta(seconds=61)):
        response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_token_follows_the_injectable_clock_not_the_wall_clock(client: TestClient, make_user) -> None:
    user = make_user()
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    with clock.use_clock(lambda: long_ago):
        token = token_for(user, ttl_s=600)
        response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_tampered_token_is_401(client: TestClient, make_user) -> None:
    user = make_user(role=Role.customer)
    header, payload, signature = token_for(user).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = client.get("/auth/me", headers={"Authorization": f"Bearer {header}.{forged}.{signature}"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_alg_none_token_is_401(client: TestClient, make_user) -> None:
    user = make_user()
    settings = get_settings()
    now = clock.now()
    claims = {
        "sub": str(user.id),
        "role": "customer",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
    }
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    response = client.get("/auth/me", headers={"Authorization": f"Bearer {unsigned}"})
    assert response.status_code == 401


def test_token_for_another_audience_or_issuer_is_401(client: TestClient, make_user) -> None:
    user = make_user()
    settings = get_settings()
    now = clock.now()
    for override in ({"aud": "someone-else"}, {"iss": "someone-else"}):
        claims = {
            "sub": str(user.id),
            "role": "customer",
            "iat": now,
            "exp": now + timedelta(hours=1),
            "aud": settings.jwt_audience,
            "iss": settings.jwt_issuer,
            **override,
        }
        token = jwt.encode(claims, settings.effective_jwt_secret(), algorithm="HS256")
        assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_garbage_bearer_is_401_not_500(client: TestClient) -> None:
    for value in ("Bearer", "Bearer x.y.z", "Bearer " + "a" * 5000, "Basic dXNlcjpwYXNz"):
        response = client.get("/auth/me", headers={"Authorization": value})
        assert response.status_code == 401, value
