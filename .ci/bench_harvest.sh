#!/usr/bin/env bash
# Harvest benchmark (make bench runs it with HOURS=1; HOURS="1 24" for the
# 24 h case): exports a synthetic archive of a ~3 Mbps two-track channel to a
# local folder, compared with cp -r of the same media logs, and (1 h) to a
# real versitygw, compared with `aws s3 cp --recursive` of the same files.
# 24 h needs ~70 GB of free disk. Prints HARVEST / HARVEST_S3 lines.
set -euo pipefail
cd "$(dirname "$0")/.."
gw=$PWD/.ci/bin/versitygw
for h in ${HOURS:-1}; do
  s3=""
  if [ "$h" = 1 ] && [ -x "$gw" ] && command -v aws >/dev/null; then s3=$gw; fi
  REWIND_HARVEST_BENCH_HOURS=$h REWIND_HARVEST_BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}} REWIND_HARVEST_BENCH_VERSITYGW=$s3 \
    go test -count=1 -timeout 2h -run '^TestBenchHarvestLocal$' -v ./harvest/export/ | grep '^HARVEST'
done
