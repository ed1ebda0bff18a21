"""Process-wide settings, read from `O2O_*` environment variables.

When no database or Redis URL is given, everything points at the private stack that `o2o stack up`
runs under `.o2o/` (unix sockets only, so two checkouts on one machine never collide).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# A unix socket path may be at most 107 bytes; leave room for PostgreSQL's `.s.PGSQL.5432.lock`.
_MAX_SOCKET_DIR = 80
PG_PORT = 5432


@dataclass(frozen=True, slots=True)
class StackPaths:
    """Where the private PostgreSQL and Redis of one checkout live."""

    home: Path

    @property
    def pg_data(self) -> Path:
        return self.home / "pg" / "data"

    @property
    def pg_log(self) -> Path:
        return self.home / "pg" / "server.log"

    @property
    def redis_dir(self) -> Path:
        return self.home / "redis"

    @property
    def socket_dir(self) -> Path:
        # Deep checkouts would overflow the unix socket path limit; fall back to a short
        # per-checkout directory under /tmp, named by a hash of the home so clones stay apart.
        wanted = self.home / "run"
        if len(str(wanted)) <= _MAX_SOCKET_DIR:
            return wanted
        digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
        return Path("/tmp") / f"o2o-{digest}"

    @property
    def redis_socket(self) -> Path:
        return self.socket_dir / "redis.sock"

    @property
    def pids_dir(self) -> Path:
        return self.home / "pids"

    def database_url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@/{dbname}?host={self.socket_dir}&port={PG_PORT}"

    def redis_url(self, db: int = 0) -> str:
        return f"unix://{self.redis_socket}?db={db}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="O2O_", extra="ignore")

    home: Path = Field(default=PROJECT_ROOT / ".o2o")
    database_url: str | None = None
    redis_url: str | None = None
    database_name: str = "o2o"

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "o2o-dispatch"
    jwt_audience: str = "o2o-api"
    access_token_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # How often beat starts a dispatch cycle for every zone (the kernel schedules it, so it lives
    # here; the rest of dispatch's knobs are in `dispatch.config`).
    dispatch_cycle_period_s: float = Field(default=5.0, ge=1.0, le=300.0, allow_inf_nan=False)
    log_json: bool = False
    log_level: str = "INFO"

    @property
    def stack(self) -> StackPaths:
        return StackPaths(self.home)

    @property
    def uses_private_stack(self) -> bool:
        return self.database_url is None or self.redis_url is None

    def effective_database_url(self) -> str:
        return self.database_url or self.stack.database_url(self.database_name)

    def effective_redis_url(self) -> str:
        return self.redis_url or self.stack.redis_url()

    def effective_jwt_secret(self) -> str:
        """The signing key: configured, or one generated once per checkout and kept in `.o2o/`.

        A file (rather than a per-process random key) lets several API processes and the worker
        accept each other's tokens.
        """
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        path = self.home / "jwt_secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(48))
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
