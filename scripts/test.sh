#!/usr/bin/env bash
# Runs the whole suite against the private stack (or O2O_DATABASE_URL / O2O_REDIS_URL), then
# stops the services this run started, unless O2O_KEEP_STACK=1.
set -euo pipefail
cd "$(dirname "$0")/.."

started=""
setup_started=$(date +%s%N)
if [ -z "${O2O_DATABASE_URL:-}" ] || [ -z "${O2O_REDIS_URL:-}" ]; then
    started=$(.venv/bin/o2o stack up --print-started)
fi
stop_started() {
    if [ -n "$started" ] && [ "${O2O_KEEP_STACK:-0}" != "1" ]; then
        .venv/bin/o2o stack down >/dev/null
    fi
}
trap stop_started EXIT
elapsed_ms=$(( ($(date +%s%N) - setup_started) / 1000000 ))
echo "Stack ready in ${elapsed_ms} ms${started:+ (started: $started)}"

# Two workers on the 2-core machines this runs on; each gets its own database.
.venv/bin/python -m pytest -n "${O2O_TEST_WORKERS:-2}" "$@"
