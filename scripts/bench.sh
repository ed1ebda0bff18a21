#!/usr/bin/env bash
# Runs every benchmark; JSON results land in .o2o/bench/. Benchmarks that need ../shared data
# are skipped with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.o2o/bench
mkdir -p "$out"
shared=$(cd .. && pwd)/shared
O2O=.venv/bin/o2o

$O2O bench inventory --json "$out/inventory.json"
$O2O bench street-matrix --json "$out/street_matrix.json"
if [ -d "$shared/bench/solomon" ]; then
    $O2O bench routing --instances "$shared/bench/solomon" --bks "$shared/bench/solomon/bks.csv" \
        --time-limit "${O2O_BENCH_TIME_LIMIT:-1}" --json "$out/routing.json"
else
    echo "skip: routing benchmark ($shared/bench/solomon not found)"
fi
$O2O bench dynamic --json "$out/dynamic.json"
$O2O bench checkout --json "$out/checkout.json"
$O2O bench dispatch --json "$out/dispatch.json"
$O2O bench tracking --json "$out/tracking.json"
