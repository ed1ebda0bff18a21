"""Typed factories for test data: realistic defaults, every field overridable."""

from __future__ import annotations

import itertools
import uuid
from functools import lru_cache

from sqlalchemy.orm import Session

from core.auth.models import Role, User
from core.auth.passwords import hash_password
from core.auth.tokens import Principal, issue_token
from core.settings import get_settings

DEFAULT_PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@lru_cache(maxsize=16)
def _hash(password: str) -> str:
    # argon2 is deliberately slow; tests reuse one hash per distinct password.
    return hash_password(password)


def create_user(
    session: Session,
    *,
    role: Role = Role.customer,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    location_id: uuid.UUID | None = None,
    active: bool = True,
    display_name: str | None = None,
) -> User:
    n = next(_counter)
    user = User(
        email=(email or f"{role.value}{n}-{uuid.uuid4().hex[:6]}@example.test").lower(),
        password_hash=_hash(password),
        role=role,
        display_name=display_name or f"{role.value.title()} {n}",
        location_id=location_id,
        active=active,
    )
    session.add(user)
    session.flush()
    return user


def token_for(user: User, *, ttl_s: int | None = None) -> str:
    return issue_token(Principal(user.id, user.role, user.location_id), get_settings(), ttl_s=ttl_s)


def auth_headers(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user)}"}
