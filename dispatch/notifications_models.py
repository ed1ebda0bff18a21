"""The notifications outbox: messages to customers, written in the transaction that decided them
and delivered afterwards by an adapter (SMS or e-mail), so a rollback never texts anybody and a
crashed sender leaves the row pending for the next attempt."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, UUIDPrimaryKey, str_enum


class NotificationChannel(enum.StrEnum):
    sms = "sms"
    email = "email"


class NotificationStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # gave up after `MAX_ATTEMPTS`


class Notification(UUIDPrimaryKey, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # One notice of a kind per order: the delay notice must not repeat at every ping.
        Index("uq_notifications_order_kind", "order_id", "kind", unique=True),
        Index("ix_notifications_pending", "created_at", postgresql_where=text("status = 'pending'")),
        CheckConstraint("attempts BETWEEN 0 AND 10", name="attempts_range"),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[NotificationChannel] = mapped_column(str_enum(NotificationChannel, "notification_channel", 8))
    recipient: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(String(500))
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus, "notification_status", 8), default=NotificationStatus.pending
    )
    attempts: Mapped[int] = mapped_column(default=0)
    provider_ref: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[datetime | None]
