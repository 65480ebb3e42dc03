#!/usr/bin/env bash
# Harvest benchmark (make bench runs it with HOURS=1; HOURS="1 24" for the
# 24 h case): exports a synthetic archive of a ~3 Mbps two-track channel to a
# local folder on the same file system, compared with cp -r of the package
# and of the media logs, and (1 h) to a real versitygw, compared with
# `aws s3 cp --recursive` of the same files. Prints HARVEST_FS, HARVEST and
# HARVEST_S3 lines.
#
# File system: as root with mkfs.xfs (xfsprogs) and loop devices, the run
# happens on a file-backed XFS image with reflinks (mkfs.xfs -m reflink=1),
# mounted for the run and removed on exit, so a harvest can share blocks
# with the logs instead of copying them; BENCH_XFS=0 skips that. Otherwise
# (or BENCH_DIR set) it runs in BENCH_DIR, TMPDIR or /tmp, on whatever file
# system that is, and HARVEST_FS says why. Disk: ~3 GB per hour on ext4
# (~70 GB for 24 h); the XFS image is sparse, sized 4 GB + 3 GB per hour.
set -euo pipefail
cd "$(dirname "$0")/.."
gw=$PWD/.ci/bin/versitygw
dir=${BENCH_DIR:-${TMPDIR:-/tmp}}
mnt="" img=""
cleanup() {
  if [ -n "$mnt" ]; then umount "$mnt" 2>/dev/null || true; rmdir "$mnt" 2>/dev/null || true; fi
  if [ -n "$img" ]; then rm -f "$img"; fi
}
trap cleanup EXIT
why=""
if [ -n "${BENCH_DIR:-}" ]; then why="BENCH_DIR is set"
elif [ "${BENCH_XFS:-1}" = 0 ]; then why="BENCH_XFS=0"
elif [ "$(id -u)" != 0 ]; then why="not root (loop mounts need it)"
elif ! command -v mkfs.xfs >/dev/null; then why="no mkfs.xfs (apt-get install xfsprogs)"
else
  max=0; for h in ${HOURS:-1}; do [ "$h" -gt "$max" ] && max=$h; done
  img=$(mktemp "${TMPDIR:-/tmp}/rewind-harvest-xfs.XXXXXX.img")
  mnt=$(mktemp -d "${TMPDIR:-/tmp}/rewind-harvest-xfs.XXXXXX")
  if truncate -s "$((4 + 3 * max))G" "$img" && mkfs.xfs -q -f -m reflink=1 "$img" && mount -o loop "$img" "$mnt"; then
    dir=$mnt
    echo "HARVEST_FS fs=xfs reflink=1 image=$img ($((4 + 3 * max)) GB sparse, loop mount)"
  else
    why="mkfs.xfs or the loop mount failed"
    rmdir "$mnt" 2>/dev/null || true; mnt=""
  fi
fi
if [ -n "$why" ]; then
  echo "HARVEST_FS fs=$(stat -f -c %T "$dir") dir=$dir (not XFS: $why)"
fi
for h in ${HOURS:-1}; do
  s3=""
  if [ "$h" = 1 ] && [ -x "$gw" ] && command -v aws >/dev/null; then s3=$gw; fi
  REWIND_HARVEST_BENCH_HOURS=$h REWIND_HARVEST_BENCH_DIR=$dir REWIND_HARVEST_BENCH_VERSITYGW=$s3 \
    go test -count=1 -timeout 2h -run '^TestBenchHarvestLocal$' -v ./harvest/export/ | grep '^HARVEST'
done
