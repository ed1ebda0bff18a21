from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from core.auth.models import Role

# Deliberately simple: one "@", something on both sides, a dot in the domain. Deliverability is
# proven by sending mail, not by a regular expression.
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN)
    password: str = Field(min_length=8, max_length=128)
    display_name: str = Field(default="", max_length=120)
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ()-]{4,32}$")


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=128)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: Role


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    role: Role
    display_name: str
    location_id: uuid.UUID | None
