from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, UUIDPrimaryKey, str_enum


class Role(enum.StrEnum):
    customer = "customer"
    courier = "courier"
    staff = "staff"
    dispatcher = "dispatcher"
    admin = "admin"


class User(UUIDPrimaryKey, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        # Staff act for one location; nobody else is scoped to one.
        CheckConstraint("(role = 'staff') = (location_id IS NOT NULL)", name="staff_has_location"),
    )

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role", 16))
    display_name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    # The store/dark store a staff member works at. The foreign key to `locations` is added by
    # the stores migration, because the kernel does not know the stores domain.
    location_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
