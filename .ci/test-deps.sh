#!/usr/bin/env bash
# Installs the tools the tests (or, with "bench", the benchmarks) need when
# they are missing. Debian/Ubuntu: apt-get (as root, or through sudo).
set -euo pipefail
need=(ffmpeg:ffmpeg ffprobe:ffmpeg)
# The browser tests (e2e/player: hls.js and dash.js in headless Chromium).
need+=(chromium:chromium node:nodejs npm:npm)
# The MediaPackage v2 API tests (e2e/api_*): the AWS CLI and boto3.
need+=(aws:awscli python3:python3)
# The disk-full test (e2e/diskfull_test.go): a loop-mounted ext4 (root only).
need+=(mkfs.ext4:e2fsprogs mount:mount umount:mount)
# The shield test (e2e/shield_test.go): docs/deploy/nginx-shield.conf in nginx.
need+=(nginx:nginx-light)
if [ "${1:-}" = bench ]; then
  # wrk: the serving rows; mkfs.xfs: the harvest rows on a reflink XFS image.
  need+=(wrk:wrk mkfs.xfs:xfsprogs)
fi
missing=()
for pair in "${need[@]}"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ]; then
    missing+=("$pkg")
  fi
done
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import boto3' >/dev/null 2>&1; then
  missing+=(python3-boto3)
fi
# install_player_deps: the e2e player's node modules (playwright-core,
# hls.js, dashjs, shaka-player; pinned by e2e/player/package-lock.json).
install_player_deps() {
  local dir
  dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/e2e/player
  # Reinstall when the lock file changed since the last install (a stamp
  # copy of it sits in node_modules).
  # A symlinked node_modules (a git worktree sharing another checkout's
  # modules) is left alone: npm ci would empty the shared folder.
  if [ -L "$dir/node_modules" ]; then
    echo "e2e/player/node_modules is a symlink: not reinstalling the modules it points to"
    return 0
  fi
  if [ -f "$dir/package-lock.json" ] && ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.rewind-lock"; then
    echo "installing e2e/player node modules (npm ci)"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    cp "$dir/package-lock.json" "$dir/node_modules/.rewind-lock"
  fi
}
# versitygw: the S3 server of the harvest e2e tests (e2e/harvest_s3_test.go),
# built into .ci/bin (Apache-2.0; see TOOLING.md §3).
install_versitygw() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [ ! -x "$root/.ci/bin/versitygw" ]; then
    echo "installing versitygw v1.8.0 into .ci/bin"
    (cd "$root" && GOBIN="$root/.ci/bin" go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)
  fi
}
install_versitygw
if [ ${#missing[@]} -eq 0 ]; then install_player_deps; exit 0; fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "installing test tools: ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: ${missing[*]} missing and apt-get is not available; install them with your package manager" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
    echo "error: ${missing[*]} missing; run as root or install: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_player_deps
