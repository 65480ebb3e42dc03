#!/usr/bin/env bash
# Harvest benchmark (not called by make bench yet): exports a synthetic
# archive of a ~3 Mbps two-track channel (1 h, and 24 h with HOURS="1 24")
# to a local folder and compares with cp -r of the same media logs.
# 24 h needs ~3 x 33 GB of free disk. Results: docs/BENCHMARKS.md, "Harvest".
set -euo pipefail
cd "$(dirname "$0")/.."
for h in ${HOURS:-1}; do
  REWIND_HARVEST_BENCH_HOURS=$h REWIND_HARVEST_BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}} \
    go test -count=1 -timeout 2h -run '^TestBenchHarvestLocal$' -v ./harvest/export/ | grep '^HARVEST'
done
