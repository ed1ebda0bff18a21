"""Share links: a signed token that lets anyone holding it watch one order, read-only.

The token is a JWT with its own audience (so it can never pass as an access token, nor an access
token as a share) naming only the order. It is valid until the order's delivery (or its
cancellation or failure) plus `AFTER_END`; since the delivery time is unknown when the link is
made, that rule is checked against the order at each use, and the token's own `exp` is only a
hard upper bound for orders that never finish.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy.orm import Session

from core import clock
from core.errors import DomainError
from core.settings import get_settings
from dispatch import tracking
from dispatch.errors import OrderNotFound
from dispatch.models import Order

AUDIENCE = "o2o-share"
ALGORITHM = "HS256"
AFTER_END = timedelta(minutes=15)
HARD_LIMIT_AFTER_PROMISE = timedelta(hours=12)
URL = "/web/customer/track.html?order={order_id}#share={token}"


class ShareExpired(DomainError):
    status_code = 401
    code = "share_expired"


class InvalidShare(DomainError):
    status_code = 401
    code = "invalid_share"


@dataclass(frozen=True, slots=True)
class ShareLink:
    token: str
    url: str
    expires_at: datetime


def issue(session: Session, *, customer_id: uuid.UUID, order_id: uuid.UUID) -> ShareLink:
    order = session.get(Order, order_id)
    if order is None or order.customer_id != customer_id:
        raise OrderNotFound("No such order.", order_id=str(order_id))
    now = clock.now()
    ended = _ended_at(order)
    expires = ended + AFTER_END if ended is not None else order.promised_to + HARD_LIMIT_AFTER_PROMISE
    if expires <= now:
        raise ShareExpired("The order ended more than 15 minutes ago; there is nothing left to watch.")
    claims = {"sub": str(order_id), "aud": AUDIENCE, "iss": get_settings().jwt_issuer, "iat": now, "exp": expires}
    token = jwt.encode(claims, _key(), algorithm=ALGORITHM)
    return ShareLink(token=token, url=URL.format(order_id=order_id, token=token), expires_at=expires)


def verify(session: Session, *, token: str, order_id: uuid.UUID) -> None:
    """Raise unless `token` is a live share link of `order_id`."""
    try:
        claims = jwt.decode(
            token,
            _key(),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=get_settings().jwt_issuer,
            options={"require": ["exp", "sub", "aud"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidShare("Not a valid share link.") from exc
    if claims["sub"] != str(order_id):
        raise InvalidShare("This share link is for another order.")
    now = clock.now()
    if not isinstance(claims["exp"], int | float) or claims["exp"] <= now.timestamp():
        raise ShareExpired("This share link has expired.")
    order = session.get(Order, order_id)
    if order is None:
        raise InvalidShare("Not a valid share link.")
    ended = _ended_at(order)
    if ended is not None and now > ended + AFTER_END:
        raise ShareExpired("This share link has expired.")


def _ended_at(order: Order) -> datetime | None:
    if order.status not in tracking.ENDED:
        return None
    stamps = (order.delivered_at, order.cancelled_at, order.failed_delivery_at)
    return max((s for s in stamps if s is not None), default=order.updated_at)


def _key() -> str:
    # The access tokens' key; a separate audience keeps the two kinds of token apart.
    return get_settings().effective_jwt_secret()
