"""Customer notifications: decided inside a transaction (a row in the outbox), sent after it.

`record_delay` is called from the ping path when a live ETA slips past the promised window;
`deliver_pending` is the sender's loop body (a Celery task after commit; a test calls it
directly), claiming rows with `SKIP LOCKED` so two senders never send the same row twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core import clock
from core.auth.models import User
from core.celery_app import app, enqueue_after_commit
from dispatch.notifications_models import Notification, NotificationChannel, NotificationStatus
from dispatch.notifications_senders import NotificationSender

DELIVER_TASK = "dispatch.notifications.deliver"
MAX_ATTEMPTS = 5
BATCH = 100

log = structlog.get_logger(__name__)


def record_delay(
    session: Session, *, order_id: uuid.UUID, customer_id: uuid.UUID, eta: datetime, promised_to: datetime
) -> bool:
    """Queue the delay notice for this order once; False when it was already queued."""
    user = session.get(User, customer_id)
    if user is None:
        return False
    channel, recipient = (
        (NotificationChannel.sms, user.phone) if user.phone else (NotificationChannel.email, user.email)
    )
    late_min = max(1, round((eta - promised_to).total_seconds() / 60))
    body = f"Your order is running about {late_min} min late; the courier is now expected at {eta:%H:%M} UTC."
    inserted = session.execute(
        insert(Notification)
        .values(
            id=uuid.uuid4(),
            order_id=order_id,
            user_id=customer_id,
            kind="delay",
            channel=channel,
            recipient=recipient,
            body=body,
            status=NotificationStatus.pending,
            attempts=0,
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["order_id", "kind"])
        .returning(Notification.id)
    ).scalar_one_or_none()
    if inserted is None:
        return False
    enqueue_after_commit(session, app.signature(DELIVER_TASK))
    return True


def deliver_pending(session: Session, *, senders: Mapping[NotificationChannel, NotificationSender]) -> int:
    """Send up to `BATCH` pending notifications; returns how many went out. Flushes, never commits."""
    rows = session.scalars(
        select(Notification)
        .where(Notification.status == NotificationStatus.pending)
        .order_by(Notification.created_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for row in rows:
        row.attempts += 1
        try:
            row.provider_ref = senders[row.channel].send(recipient=row.recipient, body=row.body)
        except Exception as exc:  # a gateway failure must not stop the other notices
            log.warning("notification_failed", notification_id=str(row.id), error=repr(exc))
            if row.attempts >= MAX_ATTEMPTS:
                row.status = NotificationStatus.failed
            continue
        row.status, row.sent_at = NotificationStatus.sent, clock.now()
        sent += 1
    session.flush()
    return sent
