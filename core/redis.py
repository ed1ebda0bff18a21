"""Redis clients for the configured URL (private stack socket by default)."""

from __future__ import annotations

import re
from functools import lru_cache

import redis
import redis.asyncio as aioredis

from core.settings import get_settings


@lru_cache(maxsize=4)
def _sync_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, health_check_interval=30)


def get_redis() -> redis.Redis:
    return _sync_client(get_settings().effective_redis_url())


def new_async_redis() -> aioredis.Redis:
    """A fresh asyncio client; async clients are bound to one event loop, so never cached."""
    return aioredis.Redis.from_url(get_settings().effective_redis_url(), decode_responses=True)


def url_with_db(url: str, db: int) -> str:
    """The same Redis server's database number `db` (unix-socket `?db=` or `redis://host/N` URLs)."""
    if url.startswith("unix://"):
        return re.sub(r"\?db=\d+|$", f"?db={db}", url, count=1)
    return re.sub(r"(rediss?://[^/?]+)(/\d+)?", rf"\1/{db}", url, count=1)
