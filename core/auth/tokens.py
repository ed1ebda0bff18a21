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

# The signing key per key file: without a configured secret, `Settings.effective_jwt_secret`
# reads `.o2o/jwt_secret` from disk on every call, i.e. on every authenticated request.
_file_keys: dict[str, str] = {}


def _signing_key(settings: Settings) -> str:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = str(settings.home)
    key = _file_keys.get(path)
    if key is None:
        key = _file_keys[path] = settings.effective_jwt_secret()
    return key


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
    return jwt.encode(claims, _signing_key(settings), algorithm=ALGORITHM)


def decode_token(token: str, settings: Settings) -> Principal:
    try:
        claims = jwt.decode(
            token,
            _signing_key(settings),
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
