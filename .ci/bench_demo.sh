#!/usr/bin/env bash
# The built-in demo channel's CPU cost (make bench runs it; it also runs
# alone). Two fresh Rewinds side by side on empty data dirs, idle (no
# publisher, no client): one with the default settings (the demo channel
# demo/clock on), one with --demo=false. After a warm-up, their utime+stime
# (/proc/PID/stat) over BENCH_DEMO_SECONDS, as % of one core. Prints one
# line per server and one with the difference, each starting with DEMO.
#
# Knobs (environment): BENCH_DEMO_SECONDS (60), BENCH_DEMO_WARMUP (10),
# REWIND_BIN (bin/rewind). Loopback only; both servers are stopped on exit.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
bin=${REWIND_BIN:-$PWD/bin/rewind}
seconds=${BENCH_DEMO_SECONDS:-60}
warmup=${BENCH_DEMO_WARMUP:-10}
[ -x "$bin" ] || { echo "bench_demo: $bin missing: run make build (or set REWIND_BIN)" >&2; exit 1; }
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 10 ] && [ "$seconds" -le 600 ] ||
  { echo "bench_demo: BENCH_DEMO_SECONDS=$seconds: want 10..600" >&2; exit 1; }

# shellcheck source=.ci/bench_lib.sh
. .ci/bench_lib.sh
bench_init demo

# start NAME ARGS...: a fresh Rewind; prints its pid, log in $work/NAME.log.
start() {
  local name=$1; shift
  mkdir -p "$work/$name"
  "$bin" serve --data-dir "$work/$name" --http-addr 127.0.0.1:0 --rtsp-addr 127.0.0.1:0 \
    --rtsp-udp-rtp-addr "" --rtsp-udp-rtcp-addr "" --rtmp-addr "" --srt-addr "" "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
}
start demo            # the default: demo on
start nodemo --demo=false
for name in demo nodemo; do
  for _ in $(seq 100); do grep -q 'msg="rewind started"' "$work/$name.log" && break; sleep 0.1; done
  grep -q 'msg="rewind started"' "$work/$name.log" || { cat "$work/$name.log" >&2; exit 1; }
done
http=$(sed -n 's/.*msg="rewind started".* http=\([^ ]*\).*/\1/p' "$work/demo.log" | head -1)
sleep "$warmup"
declare -A t0
for i in 0 1; do t0[$i]=$(cpu_ticks "${pids[$i]}"); done
sleep "$seconds"
i=0
declare -A pct
for name in demo nodemo; do
  p=${pids[$i]}
  ticks=$(( $(cpu_ticks "$p") - ${t0[$i]} ))
  rss=$(awk '/^VmRSS:/{printf "%.0f", $2/1024}' "/proc/$p/status")
  pct[$name]=$(awk -v t="$ticks" -v h="$clk_tck" -v s="$seconds" 'BEGIN {printf "%.2f", 100*t/h/s}')
  label=$([ "$name" = demo ] && echo "demo on (default)" || echo "--demo=false")
  echo "DEMO idle, $label: $(awk -v t="$ticks" -v h="$clk_tck" 'BEGIN {printf "%.2f", t/h}') CPU s over ${seconds} s = ${pct[$name]} % of one core, RSS ${rss} MiB"
  i=$((i + 1))
done
segs=$(curl -sf "http://$http/out/v1/demo/clock/default/index_video.m3u8" | grep -c '^#EXTINF' || true)
echo "DEMO cost of the demo channels: $(awk -v a="${pct[demo]}" -v b="${pct[nodemo]}" 'BEGIN {printf "%.2f", a-b}') % of one core (target < 1 %); the demo/clock video playlist lists ${segs} segments"
