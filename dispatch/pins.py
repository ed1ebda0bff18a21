"""The delivery PIN: what the customer reads out at the door and the courier types in.

Derived from the order id with the deployment's secret, so it needs no storage and cannot be
guessed from the id. Only the customer sees it (their order detail, while it is on its way).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from core.settings import get_settings


def delivery_pin(order_id: uuid.UUID) -> str:
    """The order's 4-digit PIN."""
    digest = hmac.new(get_settings().effective_jwt_secret().encode(), order_id.bytes, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 10_000:04d}"
