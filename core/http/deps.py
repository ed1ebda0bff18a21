"""Request-scoped dependencies: the unit of work and the caller's identity.

Every route must declare who may call it, through `allow(...)` or, for the few public routes,
`public`. A test walks the app and fails on any route that declares neither (deny by default).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from core.auth.models import Role
from core.auth.service import active_user_role
from core.auth.tokens import Principal, decode_token
from core.db import new_session
from core.errors import Forbidden, Unauthorized
from core.settings import get_settings


def get_session() -> Iterator[Session]:
    """The request's unit of work: commits after the handler returns, before the response."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function" ends the dependency (and so commits) *before* the response is sent, so a
# failing commit becomes an error response instead of a lost write behind a 200.
DbSession = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /auth/token")


def current_principal(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("This endpoint needs an access token.", code="not_authenticated")
    principal = decode_token(credentials.credentials, get_settings())
    # A deactivated or deleted account loses access at once, not when its token expires.
    if active_user_role(session, principal.user_id) is not principal.role:
        raise Unauthorized("The access token is out of date.", code="invalid_token")
    return principal


class RoleGuard:
    """Dependency that admits only the given roles. Recognised by the deny-by-default test."""

    def __init__(self, *roles: Role) -> None:
        if not roles:
            raise ValueError("a guard needs at least one role")
        self.roles = frozenset(roles)

    def __call__(self, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in self.roles:
            raise Forbidden("Your role may not use this endpoint.", code="forbidden_role")
        return principal

    def __repr__(self) -> str:
        return f"RoleGuard({', '.join(sorted(self.roles))})"


def allow(*roles: Role) -> RoleGuard:
    return RoleGuard(*roles)


def public() -> None:
    """Marks a route as intentionally open to anonymous callers. Takes no `Request`, so that it
    also marks WebSocket routes (which authenticate in-band, with their first message)."""


Public = Depends(public)
