#!/usr/bin/env bash
# Ingest against MediaMTX (issue 16 item 3): Rewind's and MediaMTX's CPU per
# stream-minute and peak RSS for N RTSP publishers of the same ~3 Mbps
# H.264+AAC source (cmd/loadgen, the ingest bench's load generator), MediaMTX
# recording every path as fMP4 (its own format, 1 s parts) as Rewind records
# its archive. Rounds alternate Rewind, MediaMTX, Rewind, MediaMTX… on fresh
# data dirs, so both see the same machine; the medians are compared.
#
# MediaMTX is not in the Go module proxy here, so it is built from a source
# tree: MEDIAMTX_BIN (a built binary) or MEDIAMTX_SRC (a checkout, e.g. the
# `fetch github:bluenviron/mediamtx` mirror exported with `git archive`).
# Its `go generate` downloads (hls.js, the version file) cannot run offline:
# the build uses placeholders for them, which only the HLS player page and
# the version string use.
#
# Knobs (environment): BENCH_MTX_PUBLISHERS (200), BENCH_MTX_SECONDS (60),
# BENCH_MTX_ROUNDS (2 per server), BENCH_PUBLISH_SOURCE (an MP4 with a 2 s
# GOP; default: encoded here), REWIND_BIN (bin/rewind). Prints lines starting
# with MTX; "MTX |" lines are markdown table rows, and the last line,
# "MTX_RESULT key=value...", has the medians for make bench's summary.
# Loopback only; every process started here is stopped on exit (by pid).
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
root=$PWD
bin=${REWIND_BIN:-$root/bin/rewind}
n=${BENCH_MTX_PUBLISHERS:-200}
seconds=${BENCH_MTX_SECONDS:-60}
rounds=${BENCH_MTX_ROUNDS:-2}
die() { echo "bench_mediamtx: $*" >&2; exit 1; }
[ -x "$bin" ] || die "$bin missing: run make build (or set REWIND_BIN)"
[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 1000 ] || die "BENCH_MTX_PUBLISHERS=$n: want 1..1000"
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 10 ] && [ "$seconds" -le 600 ] || die "BENCH_MTX_SECONDS=$seconds: want 10..600"
[[ $rounds =~ ^[0-9]+$ ]] && [ "$rounds" -ge 1 ] && [ "$rounds" -le 5 ] || die "BENCH_MTX_ROUNDS=$rounds: want 1..5"
for tool in ffmpeg go getconf; do command -v "$tool" >/dev/null || die "$tool missing"; done

# shellcheck source=.ci/bench_lib.sh
. .ci/bench_lib.sh
bench_init mediamtx

mtx=${MEDIAMTX_BIN:-}
if [ -z "$mtx" ]; then
  [ -n "${MEDIAMTX_SRC:-}" ] && [ -f "$MEDIAMTX_SRC/go.mod" ] ||
    die "set MEDIAMTX_BIN to a mediamtx binary or MEDIAMTX_SRC to its source tree (e.g. git -C /work/.mirror/bluenviron+mediamtx/repo archive HEAD | tar x -C DIR)"
  cp -r "$MEDIAMTX_SRC" "$work/mtxsrc"
  [ -f "$work/mtxsrc/internal/servers/hls/hls.min.js" ] || echo "// placeholder (offline build)" >"$work/mtxsrc/internal/servers/hls/hls.min.js"
  [ -f "$work/mtxsrc/internal/core/VERSION" ] || echo "v0.0.0-bench" >"$work/mtxsrc/internal/core/VERSION"
  echo "MTX building MediaMTX from $MEDIAMTX_SRC" >&2
  (cd "$work/mtxsrc" && go build -o "$work/mediamtx" .) || die "MediaMTX build failed"
  mtx=$work/mediamtx
fi
# The source tree: MEDIAMTX_SRC, or the folder of MEDIAMTX_BIN when it was
# built in its checkout (for the version and the keys its mediamtx.yml knows).
mtx_src=${MEDIAMTX_SRC:-$(dirname "$mtx")}
mtx_version=$(grep -m1 '' "$mtx_src/internal/core/VERSION" 2>/dev/null || "$mtx" --version 2>/dev/null | head -1 || echo unknown)

bench_source "${BENCH_PUBLISH_SOURCE:-}"
go build -o "$work/loadgen" ./cmd/loadgen

hwm_kib() { awk '/^VmHWM:/{print $2}' "/proc/$1/status"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_rewind DIR: sets pid, rtsp.
start_rewind() {
  mkdir -p "$1/data"
  "$bin" serve --data-dir "$1/data" --http-addr 127.0.0.1:0 --rtsp-addr 127.0.0.1:0 \
    --rtsp-udp-rtp-addr "" --rtsp-udp-rtcp-addr "" --rtmp-addr "" --srt-addr "" --demo=false >"$1/log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 150); do grep -q 'msg="rewind started"' "$1/log" && break; sleep 0.1; done
  rtsp=$(sed -n 's/.*msg="rewind started".* rtsp=\([^ ]*\).*/\1/p' "$1/log" | head -1)
  [[ $rtsp == 127.0.0.1:* ]] || { cat "$1/log" >&2; die "rewind did not start"; }
}

# start_mtx DIR: MediaMTX with RTSP/TCP on a free loopback port, every other
# server off, every path recorded as fMP4 under DIR/rec; sets pid, rtsp.
start_mtx() {
  mkdir -p "$1/rec"
  local port
  port=$(free_port)
  cat >"$1/mediamtx.yml" <<EOF
logLevel: warn
logDestinations: [stdout]
rtspTransports: [tcp]
rtspAddress: 127.0.0.1:$port
rtmp: false
hls: false
webrtc: false
srt: false
api: false
metrics: false
pprof: false
playback: false
pathDefaults:
  record: true
  recordPath: $1/rec/%path/%Y-%m-%d_%H-%M-%S-%f
  recordFormat: fmp4
  recordPartDuration: 1s
  recordSegmentDuration: 1h
paths:
  all_others:
EOF
  # Newer MediaMTX also serves MoQ (and writes a certificate to its working
  # directory): off when the source says it knows the key.
  if grep -q '^moq:' "$mtx_src/mediamtx.yml" 2>/dev/null; then echo "moq: false" >>"$1/mediamtx.yml"; fi
  (cd "$1" && exec "$mtx" mediamtx.yml) >"$1/log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$1/log" >&2; die "mediamtx exited at start"; }
    sleep 0.1
  done
  rtsp=127.0.0.1:$port
}

stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# round SERVER I: one run of N publishers; appends "cpu_per_min hwm_mib" to
# the server's list and prints a MTX line.
declare -A per_min hwm late
round() {
  local dir=$work/$1-$2 t0 t1 h js cpu pm lt
  case $1 in rewind) start_rewind "$dir" ;; mediamtx) start_mtx "$dir" ;; esac
  t0=$(cpu_ticks "$pid")
  # loadgen exits non-zero when a publisher ended early or it could not
  # keep up (its deadline passed); its report is still the round's.
  local rc=0
  js=$("$work/loadgen" -source "$src" -target "$rtsp" -publishers "$n" -duration "${seconds}s" \
    -group bench -prefix p 2>"$dir/loadgen.log") || rc=$?
  [ -n "$js" ] || { cat "$dir/loadgen.log" "$dir/log" >&2; die "loadgen failed against $1 (exit $rc)"; }
  sleep 1
  t1=$(cpu_ticks "$pid")
  h=$(hwm_kib "$pid")
  stop_pid "$pid"
  cpu=$(awk -v a="$t0" -v b="$t1" -v t="$clk_tck" 'BEGIN {printf "%.2f", (b-a)/t}')
  pm=$(awk -v c="$cpu" -v n="$n" -v s="$seconds" 'BEGIN {printf "%.4f", c/(n*s/60)}')
  lt=$(sed -n 's/.*"late_frames":\([0-9]*\).*/\1/p' <<<"$js")
  per_min[$1]+="$pm "
  hwm[$1]+="$((h / 1024)) "
  late[$1]+="$lt "
  echo "MTX $1 round $2: $n publishers for ${seconds}s: CPU $cpu s = $pm CPU s per stream-minute, peak RSS $((h / 1024)) MiB, late frames $lt, ended early $(sed -n 's/.*"ended_early":\([0-9]*\).*/\1/p' <<<"$js"), loadgen exit $rc, recorded $(du -sm "$dir" | cut -f1) MB; load $(cut -d' ' -f1-3 /proc/loadavg)"
  [ "$rc" = 0 ] || grep -m 3 'WARN\|ERROR' "$dir/loadgen.log" | sed 's/^/MTX   loadgen: /' || true
  grep -m 3 -i 'ERR\|WAR' "$dir/log" | sed 's/^/MTX   /' || true
}

# median VALUES [FORMAT]: the median of the values (the mean of the middle
# two for an even count), printed with FORMAT (%.4f).
median() { printf '%s\n' $1 | sort -n | awk -v f="${2:-%.4f}" '{v[NR]=$1} END {if (NR%2) m=v[(NR+1)/2]; else m=(v[NR/2]+v[NR/2+1])/2; printf f "\n", m}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b>0) printf "%.2f", a/b; else print "?"}'; }

for i in $(seq "$rounds"); do
  round rewind "$i"
  round mediamtx "$i"
done

rw_pm=$(median "${per_min[rewind]}"); mx_pm=$(median "${per_min[mediamtx]}")
rw_h=$(median "${hwm[rewind]}" %.0f); mx_h=$(median "${hwm[mediamtx]}" %.0f)
echo "MTX | server | publishers | CPU s / stream-min (rounds; median) | peak RSS MiB (rounds; median) | late frames (rounds) |"
echo "MTX |---|---:|---|---|---|"
echo "MTX | Rewind | $n | ${per_min[rewind]% }; **$rw_pm** | ${hwm[rewind]% }; **$rw_h** | ${late[rewind]% } |"
echo "MTX | MediaMTX ($mtx_version, fMP4 recording) | $n | ${per_min[mediamtx]% }; **$mx_pm** | ${hwm[mediamtx]% }; **$mx_h** | ${late[mediamtx]% } |"
echo "MTX | Rewind / MediaMTX | | **$(ratio "$rw_pm" "$mx_pm")** (target ≤ 0.6) | **$(ratio "$rw_h" "$mx_h")** (target ≤ 1.0) | |"
# One machine-readable line (make bench's issue 16 summary); the version last, it may hold spaces.
echo "MTX_RESULT publishers=$n rounds=$rounds rewind_cpu_per_min=$rw_pm mediamtx_cpu_per_min=$mx_pm rewind_rss_mib=$rw_h mediamtx_rss_mib=$mx_h mediamtx_version=$mtx_version"
