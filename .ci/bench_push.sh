#!/usr/bin/env bash
# HTTP push ingest against RTSP publish: Rewind's CPU per stream-minute for N
# streams of the same ~3 Mbps H.264+AAC source (make bench runs it as the
# section "push"; it also runs alone). One run, two fresh Rewinds one after
# the other on empty data dirs (auto-provisioning on):
#   rtsp: cmd/loadgen publishes the source N times over RTSP for
#         BENCH_PUSH_SECONDS;
#   push: N ffmpeg processes copy the source (-re -c copy, no encoding: their
#         own CPU is small) as HLS with MPEG-TS segments, PUT to
#         /in/v1/bench/1/hNNN/index.m3u8, for the same time.
# Rewind's utime+stime (/proc/PID/stat) from before the first publisher to
# one second after the last one ends, per stream-minute; the ratio push/rtsp
# (target <= 1.5). Prints lines starting with PUSH.
#
# Usage: bash .ci/bench_push.sh [STREAMS]  (STREAMS, else BENCH_PUSH_STREAMS, else 50)
# Knobs (environment): BENCH_PUSH_STREAMS (50), BENCH_PUSH_SECONDS (60),
# BENCH_PUSH_SOURCE (an MP4 with a 2 s GOP; default: encoded here like
# bench.sh's source), REWIND_BIN (bin/rewind). Loopback only; every process
# started here is stopped on exit.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
root=$PWD
bin=${REWIND_BIN:-$root/bin/rewind}
streams=${1:-${BENCH_PUSH_STREAMS:-50}}
seconds=${BENCH_PUSH_SECONDS:-60}
[ -x "$bin" ] || { echo "bench_push: $bin missing: run make build (or set REWIND_BIN)" >&2; exit 1; }
[[ $streams =~ ^[0-9]+$ ]] && [ "$streams" -ge 1 ] && [ "$streams" -le 500 ] ||
  { echo "bench_push: $streams streams: want 1..500" >&2; exit 1; }
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 10 ] && [ "$seconds" -le 600 ] ||
  { echo "bench_push: BENCH_PUSH_SECONDS=$seconds: want 10..600" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "bench_push: ffmpeg missing (apt-get install ffmpeg)" >&2; exit 1; }

# shellcheck source=.ci/bench_lib.sh
. .ci/bench_lib.sh
bench_init push

bench_source "${BENCH_PUSH_SOURCE:-}"
go build -o "$work/loadgen" ./cmd/loadgen

# start NAME: a fresh Rewind; sets rw_pid, rw_http, rw_rtsp, rw_log.
start() {
  mkdir -p "$work/$1"
  rw_log=$work/$1.log
  "$bin" serve --data-dir "$work/$1" --http-addr 127.0.0.1:0 --rtsp-addr 127.0.0.1:0 \
    --rtsp-udp-rtp-addr "" --rtsp-udp-rtcp-addr "" --demo=false >"$rw_log" 2>&1 &
  rw_pid=$!
  pids+=("$rw_pid")
  for _ in $(seq 150); do grep -q 'msg="rewind started"' "$rw_log" && break; sleep 0.1; done
  grep -q 'msg="rewind started"' "$rw_log" || { cat "$rw_log" >&2; exit 1; }
  rw_http=$(sed -n 's/.*msg="rewind started".* http=\([^ ]*\).*/\1/p' "$rw_log" | head -1)
  rw_rtsp=$(sed -n 's/.*msg="rewind started".* rtsp=\([^ ]*\).*/\1/p' "$rw_log" | head -1)
}

# stop: SIGTERM the current Rewind and wait up to 30 s.
stop() {
  kill -TERM "$rw_pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$rw_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$rw_pid" 2>/dev/null || true
  wait "$rw_pid" 2>/dev/null || true
}

# segments URL: the number of segments a media playlist lists.
segments() { curl -sf "$1" | grep -c '^#EXTINF' || true; }

# report MODE T0 T1 SEGS: one PUSH line; sets per_min.
report() {
  local cpu
  cpu=$(awk -v a="$2" -v b="$3" -v t="$clk_tck" 'BEGIN {printf "%.2f", (b-a)/t}')
  per_min=$(awk -v c="$cpu" -v n="$streams" -v s="$seconds" 'BEGIN {printf "%.4f", c/(n*s/60)}')
  echo "PUSH $1: $streams streams for ${seconds} s: Rewind CPU $cpu s = $per_min CPU s per stream-minute; last stream's video playlist lists $4 segments; warnings/errors in the log: $(grep -c 'level=WARN\|level=ERROR' "$rw_log" || true)"
  grep -m 3 'level=WARN\|level=ERROR' "$rw_log" | sed 's/^/PUSH   /' || true
}

# RTSP publish.
start rtsp
t0=$(cpu_ticks "$rw_pid")
"$work/loadgen" -source "$src" -target "$rw_rtsp" -publishers "$streams" -duration "${seconds}s" \
  -group bench -prefix r >"$work/loadgen.json" 2>"$work/loadgen.log" ||
  { cat "$work/loadgen.log" >&2; exit 1; }
sleep 1
t1=$(cpu_ticks "$rw_pid")
last=$(printf %03d "$streams")
report rtsp "$t0" "$t1" "$(segments "http://$rw_http/out/v1/bench/r$last/default/index_video.m3u8")"
rtsp_per_min=$per_min
stop

# HTTP push (HLS, MPEG-TS segments).
start push
t0=$(cpu_ticks "$rw_pid")
ff=()
for i in $(seq "$streams"); do
  name=h$(printf %03d "$i")
  ffmpeg -hide_banner -loglevel error -nostdin -re -stream_loop -1 -i "$src" -t "$seconds" -c copy \
    -f hls -hls_time 2 -hls_list_size 5 -hls_flags delete_segments+program_date_time -method PUT \
    "http://$rw_http/in/v1/bench/1/$name/index.m3u8" >"$work/ffmpeg-$name.log" 2>&1 &
  ff+=("$!")
  pids+=("$!")
done
failed=0
for p in "${ff[@]}"; do wait "$p" || failed=$((failed + 1)); done
sleep 1
t1=$(cpu_ticks "$rw_pid")
report push "$t0" "$t1" "$(segments "http://$rw_http/out/v1/bench/h$last/default/index_video.m3u8")"
push_per_min=$per_min
refused=$(grep -c 'push refused' "$rw_log" || true)
stop

echo "PUSH push / rtsp CPU per stream-minute: $(awk -v a="$push_per_min" -v b="$rtsp_per_min" 'BEGIN {if (b>0) printf "%.2f", a/b; else print "?"}') (target <= 1.5); ffmpeg pushers failed: $failed; push requests refused: $refused"
