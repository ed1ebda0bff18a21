"""The private PostgreSQL/PostGIS + Redis of one checkout, under `.o2o/`.

Both listen on unix sockets only (no TCP port), so two clones on one machine never collide and
nothing is exposed to the network. Every operation is idempotent and survives the stale pid and
socket files that a killed run leaves behind. A system-wide cluster is never touched.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

from core.settings import PG_PORT, StackPaths

PG_SETTINGS = {
    "listen_addresses": "''",
    # The concurrency tests and benchmarks open hundreds of real connections at once.
    "max_connections": "500",
    "shared_buffers": "256MB",
    "unix_socket_permissions": "0777",
}


class StackError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class StackStatus:
    postgres: bool
    redis: bool

    @property
    def up(self) -> bool:
        return self.postgres and self.redis


def _is_root() -> bool:
    return os.geteuid() == 0


def pg_bindir() -> Path:
    """The newest installed PostgreSQL's binaries (Debian keeps them per major version)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise StackError("PostgreSQL is not installed; run `make test` or `make demo` to install it.")


def _as_pg_owner(args: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root; the distribution's `postgres` user runs them.
    return ["runuser", "-u", "postgres", "--", *args] if _is_root() else args


def _run(args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def _prepare_dirs(paths: StackPaths) -> None:
    paths.home.mkdir(parents=True, exist_ok=True)
    paths.home.chmod(0o755)
    for d in (paths.redis_dir, paths.pids_dir):
        d.mkdir(parents=True, exist_ok=True)
    for d in (paths.pg_data.parent, paths.socket_dir):
        d.mkdir(parents=True, exist_ok=True)
        if _is_root():
            owner = pwd.getpwnam("postgres")
            os.chown(d, owner.pw_uid, owner.pw_gid)
        d.chmod(0o755)
    if _is_root():
        _check_traversable(paths.home)


def _check_traversable(path: Path) -> None:
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            raise StackError(
                f"{parent} is not searchable by other users, so the postgres user cannot reach "
                f"the cluster under {path}. Run `chmod o+x {parent}` or set O2O_HOME elsewhere."
            )


@contextmanager
def _locked(paths: StackPaths) -> Iterator[None]:
    """Serialise concurrent `up`/`down` calls (pytest-xdist workers start together)."""
    paths.home.mkdir(parents=True, exist_ok=True)
    with open(paths.home / "stack.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- PostgreSQL -------------------------------------------------------------------------------


def postgres_running(paths: StackPaths) -> bool:
    try:
        with psycopg.connect(_admin_dsn(paths), connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _admin_dsn(paths: StackPaths, dbname: str = "postgres") -> str:
    return f"host={paths.socket_dir} port={PG_PORT} user=postgres dbname={dbname}"


def _initdb(paths: StackPaths) -> None:
    if (paths.pg_data / "PG_VERSION").exists():
        return
    paths.pg_data.mkdir(parents=True, exist_ok=True)
    paths.pg_data.chmod(0o700)
    if _is_root():
        owner = pwd.getpwnam("postgres")
        os.chown(paths.pg_data, owner.pw_uid, owner.pw_gid)
    # Trust auth is safe only because the server listens on a socket inside this checkout.
    args = [str(pg_bindir() / "initdb"), "-D", str(paths.pg_data), "-U", "postgres"]
    args += ["--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]
    result = _run(_as_pg_owner(args), check=False)
    if result.returncode != 0:
        raise StackError(f"initdb failed:\n{result.stdout}\n{result.stderr}")


def _process_alive(pid: int) -> bool:
    """True for a live process; a zombie (killed, not yet reaped) counts as dead."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False
    return state != "Z"


def _remove_stale_lock(path: Path) -> None:
    """Delete a lock/pid file whose owner is gone.

    PostgreSQL checks the owner with kill(pid, 0), which succeeds for an unreaped zombie (and
    for an unrelated process that got the recycled pid), so after a kill -9 it can refuse to
    start forever. The server is known not to answer on its socket when this is called.
    """
    try:
        pid = int(path.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        path.unlink(missing_ok=True)
        return
    if not _process_alive(pid):
        path.unlink(missing_ok=True)


def _start_postgres(paths: StackPaths) -> None:
    for lock in (paths.pg_data / "postmaster.pid", paths.socket_dir / f".s.PGSQL.{PG_PORT}.lock"):
        _remove_stale_lock(lock)
    options = " ".join(f"-c {k}={v}" for k, v in PG_SETTINGS.items())
    options += f" -p {PG_PORT} -k {paths.socket_dir}"
    args = [str(pg_bindir() / "pg_ctl"), "-D", str(paths.pg_data), "-l", str(paths.pg_log), "-w", "-t", "60"]
    args += ["-o", options, "start"]
    paths.pg_log.touch()
    if _is_root():
        owner = pwd.getpwnam("postgres")
        os.chown(paths.pg_log, owner.pw_uid, owner.pw_gid)
    # Backends orphaned by a killed postmaster keep its shared memory for a moment after their
    # parent dies, and the new server refuses to start until they are gone: retry briefly.
    for attempt in range(5):
        result = _run(_as_pg_owner(args), check=False)
        if result.returncode == 0 or postgres_running(paths):
            return
        time.sleep(0.5 * (attempt + 1))
        for lock in (paths.pg_data / "postmaster.pid", paths.socket_dir / f".s.PGSQL.{PG_PORT}.lock"):
            _remove_stale_lock(lock)
    tail = paths.pg_log.read_text(errors="replace")[-2000:]
    raise StackError(f"PostgreSQL did not start:\n{result.stderr}\n{tail}")


def ensure_database(paths: StackPaths, dbname: str, *, fresh: bool = False) -> None:
    """Create `dbname` with PostGIS if missing (`fresh=True` drops it first)."""
    with psycopg.connect(_admin_dsn(paths), autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')
    with psycopg.connect(_admin_dsn(paths, dbname), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def _stop_postgres(paths: StackPaths) -> None:
    if not (paths.pg_data / "PG_VERSION").exists():
        return
    args = [str(pg_bindir() / "pg_ctl"), "-D", str(paths.pg_data), "-m", "fast", "-w", "stop"]
    _run(_as_pg_owner(args), check=False)


# --- Redis ------------------------------------------------------------------------------------


def redis_running(paths: StackPaths) -> bool:
    if not paths.redis_socket.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(paths.redis_socket), socket_timeout=2).ping())
    except (redis.RedisError, OSError):
        return False


def _start_redis(paths: StackPaths) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        raise StackError("redis-server is not installed; run `make test` or `make demo` to install it.")
    # A socket file left by a killed server would make clients hang on a dead path; remove it.
    paths.redis_socket.unlink(missing_ok=True)
    args = [binary, "--port", "0", "--unixsocket", str(paths.redis_socket), "--unixsocketperm", "700"]
    args += ["--dir", str(paths.redis_dir), "--save", "", "--appendonly", "no", "--daemonize", "yes"]
    args += ["--pidfile", str(paths.pids_dir / "redis.pid"), "--logfile", str(paths.redis_dir / "redis.log")]
    # Celery's broker keys must never be evicted under memory pressure.
    args += ["--maxmemory-policy", "noeviction"]
    _run(args)
    deadline = time.monotonic() + 10
    while not redis_running(paths):
        if time.monotonic() > deadline:
            raise StackError(f"Redis did not start; see {paths.redis_dir / 'redis.log'}")
        time.sleep(0.05)


def _stop_redis(paths: StackPaths) -> None:
    pid_file = paths.pids_dir / "redis.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        pid = None
    if pid is not None and _process_alive(pid):
        # SIGTERM is Redis's clean shutdown; with persistence off it exits at once.
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
    pid_file.unlink(missing_ok=True)
    paths.redis_socket.unlink(missing_ok=True)


# --- the stack --------------------------------------------------------------------------------


def status(paths: StackPaths) -> StackStatus:
    return StackStatus(postgres=postgres_running(paths), redis=redis_running(paths))


def up(paths: StackPaths, *, databases: tuple[str, ...] = ("o2o",)) -> list[str]:
    """Start whatever is not running; returns the names of the services this call started."""
    started: list[str] = []
    with _locked(paths):
        _prepare_dirs(paths)
        if not postgres_running(paths):
            _initdb(paths)
            _start_postgres(paths)
            started.append("postgres")
        for name in databases:
            ensure_database(paths, name)
        if not redis_running(paths):
            _start_redis(paths)
            started.append("redis")
    return started


def down(paths: StackPaths) -> None:
    with _locked(paths):
        _stop_redis(paths)
        _stop_postgres(paths)
