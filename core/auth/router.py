"""`/auth`: sign up as a customer, exchange credentials for a token, read who you are."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from core.auth import service
from core.auth.models import Role, User
from core.auth.schemas import RegisterRequest, TokenRequest, TokenResponse, UserOut
from core.auth.tokens import Principal, issue_token
from core.http.deps import DbSession, Public, allow
from core.settings import get_settings

router = APIRouter(prefix="/auth", tags=["auth"])
any_user = allow(*Role)


@router.post("/register", status_code=status.HTTP_201_CREATED, dependencies=[Public])
def register(body: RegisterRequest, session: DbSession) -> UserOut:
    """Create a customer account. Other roles are created by operators."""
    user = service.create_user(
        session,
        email=body.email,
        password=body.password,
        role=Role.customer,
        display_name=body.display_name,
        phone=body.phone,
    )
    return UserOut.model_validate(user)


@router.post("/token", dependencies=[Public])
def token(body: TokenRequest, session: DbSession) -> TokenResponse:
    user = service.authenticate(session, email=body.email, password=body.password)
    settings = get_settings()
    access = issue_token(Principal(user.id, user.role, user.location_id), settings)
    return TokenResponse(access_token=access, expires_in=settings.access_token_ttl_s, role=user.role)


@router.get("/me")
def me(principal: Annotated[Principal, Depends(any_user)], session: DbSession) -> UserOut:
    user = session.get_one(User, principal.user_id)
    return UserOut.model_validate(user)
