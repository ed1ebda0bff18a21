"""Signed access tokens (JWT, HS256) with expiry, audience and issuer always required."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt

from core import clock
from core.auth.models import Role
from core.errors import Unauthorized
from core.settings import Settings

ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: enough to authorise without another query."""

    user_id: uuid.UUID
    role: Role
    location_id: uuid.UUID | None = None


def issue_token(principal: Principal, settings: Settings, *, ttl_s: int | None = None) -> str:
    issued = clock.now()
    claims = {
        "sub": str(principal.user_id),
        "role": principal.role.value,
        "loc": str(principal.location_id) if principal.location_id else None,
        "iat": issued,
        "exp": issued + timedelta(seconds=ttl_s or settings.access_token_ttl_s),
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.effective_jwt_secret(), algorithm=ALGORITHM)


def decode_token(token: str, settings: Settings) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.effective_jwt_secret(),
            # Pinning the algorithm list is what rejects `alg: none` and key-confusion tricks.
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            # PyJWT would check exp/iat against the wall clock; we compare with `core.clock`
            # below instead, so that tests and the simulation agree on token expiry.
            options={
                "require": ["exp", "iat", "aud", "iss", "sub"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The access token has expired.", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The access token is not valid.", code="invalid_token") from exc
    if not isinstance(claims["exp"], int | float) or claims["exp"] <= clock.now().timestamp():
        raise Unauthorized("The access token has expired.", code="token_expired")
    try:
        role = Role(claims["role"])
        user_id = uuid.UUID(claims["sub"])
        location_id = uuid.UUID(claims["loc"]) if claims.get("loc") else None
    except (KeyError, ValueError, TypeError) as exc:
        raise Unauthorized("The access token is not valid.", code="invalid_token") from exc
    return Principal(user_id=user_id, role=role, location_id=location_id)
