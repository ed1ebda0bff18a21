"""Adapters that deliver a notification outside the system. Real SMS and e-mail gateways plug in
behind `NotificationSender`; the log sinks here are what runs locally (and in tests)."""

from __future__ import annotations

import uuid
from typing import Protocol

import structlog

from dispatch.notifications_models import NotificationChannel

log = structlog.get_logger(__name__)


class NotificationSender(Protocol):
    def send(self, *, recipient: str, body: str) -> str:
        """Deliver `body`; returns the provider's message reference. Raises on failure."""
        ...


class LogSender:
    """Writes the message to the structured log instead of a gateway."""

    def __init__(self, channel: NotificationChannel) -> None:
        self.channel = channel
        self.sent: list[tuple[str, str]] = []

    def send(self, *, recipient: str, body: str) -> str:
        ref = f"log-{self.channel.value}-{uuid.uuid4().hex[:12]}"
        self.sent.append((recipient, body))
        log.info("notification_sent", channel=self.channel.value, recipient=recipient, body=body, ref=ref)
        return ref


def log_senders() -> dict[NotificationChannel, NotificationSender]:
    return {channel: LogSender(channel) for channel in NotificationChannel}
