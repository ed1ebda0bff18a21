"""Account use cases: register customers, create staff accounts, authenticate."""

from __future__ import annotations

import uuid
from typing import Any, cast

import psycopg
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.auth.models import Role, User
from core.auth.passwords import dummy_hash, hash_password, verify_password
from core.errors import Conflict, InvalidInput, Unauthorized


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    display_name: str = "",
    phone: str | None = None,
    location_id: uuid.UUID | None = None,
) -> User:
    email = email.strip().lower()
    if (role is Role.staff) != (location_id is not None):
        raise InvalidInput(
            "Staff accounts need a location, and only staff accounts have one.",
            code="staff_location_required",
        )
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this e-mail already exists.", code="email_taken")
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        display_name=display_name,
        phone=phone,
        location_id=location_id,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        verify_password(password, dummy_hash())
        raise Unauthorized("Wrong e-mail or password.", code="invalid_credentials")
    if not verify_password(password, user.password_hash) or not user.active:
        raise Unauthorized("Wrong e-mail or password.", code="invalid_credentials")
    return user


def get_active_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise Unauthorized("The account behind this token no longer exists.", code="invalid_token")
    return user


_ACTIVE_ROLE = "SELECT role FROM users WHERE id = %s AND active"


def active_user_role(session: Session, user_id: uuid.UUID) -> Role:
    """The role of an active account, or `Unauthorized` as `get_active_user` says it.

    Every authenticated request asks this. One plain statement on the session's own connection
    (inside its transaction) instead of loading a `User` through the ORM: ~0.5 ms less CPU per
    request, measured in-process on the checkout.
    """
    conn = cast("psycopg.Connection[Any]", session.connection().connection.driver_connection)
    try:
        row = conn.execute(_ACTIVE_ROLE, (user_id,)).fetchone()
    except psycopg.Error as exc:  # answered like any database error (503 when unreachable)
        raise DBAPIError.instance(_ACTIVE_ROLE, None, exc, psycopg.Error) from exc
    if row is None:
        raise Unauthorized("The account behind this token no longer exists.", code="invalid_token")
    return Role(row[0])
