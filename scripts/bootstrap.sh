#!/usr/bin/env bash
# Installs what O2O Dispatch needs and is missing: PostgreSQL + PostGIS and Redis from apt (unless
# O2O_DATABASE_URL and O2O_REDIS_URL point at servers you already run), and the .venv with the
# project in editable mode. A second run only checks, so it takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "Need root to run: $*  (install sudo or run as root)" >&2; exit 2
    fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        say "apt-get update"
        as_root apt-get update -qq
        apt_updated=1
    fi
    say "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

system_packages() {
    if [ -n "${O2O_DATABASE_URL:-}" ] && [ -n "${O2O_REDIS_URL:-}" ]; then
        say "Using O2O_DATABASE_URL / O2O_REDIS_URL: installing no servers"
        return
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        cat >&2 <<'MSG'
This system has no apt-get. Install PostgreSQL (15+) with PostGIS 3 and Redis 7 yourself and
point O2O_DATABASE_URL / O2O_REDIS_URL at them, or use a Debian/Ubuntu machine.
MSG
        exit 2
    fi
    local pg_ver
    pg_ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1 || true)
    if [ -z "$pg_ver" ]; then
        as_root apt-get update -qq; apt_updated=1
        # The distribution's default major version (15 on Debian 12).
        pg_ver=$(apt-cache depends postgresql 2>/dev/null | grep -oE 'postgresql-[0-9]+' | head -1 | cut -d- -f2)
        [ -n "$pg_ver" ] || { echo "Cannot tell which PostgreSQL this distribution ships" >&2; exit 2; }
    fi
    local missing=()
    # chromium + a font: the browser tests of the web pages (Playwright drives Debian's chromium).
    for pkg in "postgresql-$pg_ver" "postgresql-$pg_ver-postgis-3" redis-server chromium fonts-dejavu-core; do
        installed "$pkg" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
}

python_env() {
    local stamp=.venv/.o2o-installed
    local want
    want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return
    fi
    if [ ! -x .venv/bin/python ]; then
        say "Creating .venv"
        "$PYTHON" -m venv .venv || {
            echo "python3 -m venv failed; on Debian install python3-venv" >&2; exit 2; }
    fi
    say "Installing o2o-dispatch and its dev tools into .venv (first time: about a minute)"
    mkdir -p .o2o
    if ! .venv/bin/python -m pip install -q -e '.[dev]' > .o2o/pip.log 2>&1; then
        grep -v "file:///opt" .o2o/pip.log >&2
        echo "pip install failed (log: .o2o/pip.log)" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
}

# `make bench` also wants wrk (the HTTP load generator of `o2o bench checkout`); optional, since
# the benchmark falls back to a slower Python client without it.
bench_tools() {
    command -v wrk >/dev/null 2>&1 && return
    command -v apt-get >/dev/null 2>&1 || { say "wrk not installed: HTTP benchmarks use the Python client"; return; }
    apt_install wrk
}

system_packages
python_env
if [ "${1:-}" = "--bench" ]; then bench_tools; fi
