#!/usr/bin/env bash
# RTMP and SRT publish against RTSP publish: Rewind's CPU per stream-minute
# for N streams of the same ~3 Mbps H.264+AAC source (make bench runs it as
# the section "publish"; it also runs alone). One run, three fresh Rewinds
# one after the other on empty data dirs (auto-provisioning on):
#   rtsp: cmd/loadgen publishes the source N times over RTSP/TCP;
#   rtmp: N ffmpeg processes copy the source (-re -stream_loop -1 -c copy, no
#         encoding: their own CPU is small) as FLV to
#         rtmp://HOST/bench/mNNN;
#   srt:  the same as MPEG-TS to srt://HOST?streamid=publish:bench/sNNN;
# each for BENCH_PUBLISH_SECONDS. Rewind's utime+stime (/proc/PID/stat) from
# before the first publisher to one second after the last one ends, per
# stream-minute, and the ratios rtmp/rtsp and srt/rtsp. Prints lines
# starting with PUBLISH; the ones starting with "PUBLISH |" are markdown
# table rows.
#
# Knobs (environment): BENCH_PUBLISH_STREAMS (50), BENCH_PUBLISH_SECONDS
# (60), BENCH_PUBLISH_SOURCE (an MP4 with a 2 s GOP; default: encoded here
# like bench.sh's source), REWIND_BIN (bin/rewind). Loopback only; every
# process started here is stopped on exit (by pid).
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
root=$PWD
bin=${REWIND_BIN:-$root/bin/rewind}
streams=${BENCH_PUBLISH_STREAMS:-50}
seconds=${BENCH_PUBLISH_SECONDS:-60}
[ -x "$bin" ] || { echo "bench_publish: $bin missing: run make build (or set REWIND_BIN)" >&2; exit 1; }
[[ $streams =~ ^[0-9]+$ ]] && [ "$streams" -ge 1 ] && [ "$streams" -le 500 ] ||
  { echo "bench_publish: BENCH_PUBLISH_STREAMS=$streams: want 1..500" >&2; exit 1; }
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 10 ] && [ "$seconds" -le 600 ] ||
  { echo "bench_publish: BENCH_PUBLISH_SECONDS=$seconds: want 10..600" >&2; exit 1; }
for tool in ffmpeg curl go getconf; do
  command -v "$tool" >/dev/null || { echo "bench_publish: $tool missing" >&2; exit 1; }
done

# shellcheck source=.ci/bench_lib.sh
. .ci/bench_lib.sh
bench_init publish

bench_source "${BENCH_PUBLISH_SOURCE:-}"
go build -o "$work/loadgen" ./cmd/loadgen

# start NAME: a fresh Rewind with every listener on a free loopback port;
# sets rw_pid, rw_http, rw_rtsp, rw_rtmp, rw_srt, rw_log.
start() {
  mkdir -p "$work/$1"
  rw_log=$work/$1.log
  "$bin" serve --data-dir "$work/$1" --http-addr 127.0.0.1:0 --rtsp-addr 127.0.0.1:0 \
    --rtsp-udp-rtp-addr "" --rtsp-udp-rtcp-addr "" --rtmp-addr 127.0.0.1:0 --srt-addr 127.0.0.1:0 \
    --demo=false >"$rw_log" 2>&1 &
  rw_pid=$!
  pids+=("$rw_pid")
  for _ in $(seq 150); do grep -q 'msg="rewind started"' "$rw_log" && break; sleep 0.1; done
  grep -q 'msg="rewind started"' "$rw_log" || { cat "$rw_log" >&2; exit 1; }
  local line
  line=$(grep -m1 'msg="rewind started"' "$rw_log")
  rw_http=$(sed -n 's/.* http=\([^ ]*\).*/\1/p' <<<"$line")
  rw_rtsp=$(sed -n 's/.* rtsp=\([^ ]*\).*/\1/p' <<<"$line")
  rw_rtmp=$(sed -n 's/.* rtmp=\([^ ]*\).*/\1/p' <<<"$line")
  rw_srt=$(sed -n 's/.* srt=\([^ ]*\).*/\1/p' <<<"$line")
}

# stop: SIGTERM the current Rewind and wait up to 30 s.
stop() {
  kill -TERM "$rw_pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$rw_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$rw_pid" 2>/dev/null || true
  wait "$rw_pid" 2>/dev/null || true
}

# metric NAME: the sum of a counter over its series on /metrics.
metric() { curl -sf "http://$rw_http/metrics" | awk -v n="$1" '$1 ~ "^"n"({|$)" {s += $2} END {printf "%d", s}'; }
# channels: how many channels recorded (series of rewind_ingest_frames_total).
channels() { curl -sf "http://$rw_http/metrics" | grep -c '^rewind_ingest_frames_total{' || true; }
# segments URL: the number of segments a media playlist lists.
segments() { curl -sf "$1" | grep -c '^#EXTINF' || true; }

# measure PROTO T0 T1 FAILED LAST: one PUBLISH line and one table row; sets per_min.
measure() {
  local cpu frames dropped chans warns
  cpu=$(awk -v a="$2" -v b="$3" -v t="$clk_tck" 'BEGIN {printf "%.2f", (b-a)/t}')
  per_min=$(awk -v c="$cpu" -v n="$streams" -v s="$seconds" 'BEGIN {printf "%.4f", c/(n*s/60)}')
  frames=$(metric rewind_ingest_frames_total)
  dropped=$(metric rewind_ingest_dropped_frames_total)
  chans=$(channels)
  warns=$(grep -c 'level=WARN\|level=ERROR' "$rw_log" || true)
  echo "PUBLISH $1: $streams streams for ${seconds} s: Rewind CPU $cpu s = $per_min CPU s per stream-minute; $chans channels recorded, $frames frames, $dropped dropped; publishers failed: $4; last channel's video playlist: $5 segments; warnings/errors in the log: $warns"
  grep -m 3 'level=WARN\|level=ERROR' "$rw_log" | sed 's/^/PUBLISH   /' || true
  row="| $1 | $streams | $cpu | $per_min | RATIO | $chans | $frames | $dropped | $4 | $5 | $warns |"
}

# copies PROTO URLPREFIX: N ffmpeg -c copy publishers; returns the failures in failed.
copies() {
  local ff=() i name url p
  for i in $(seq "$streams"); do
    name=$(printf %03d "$i")
    case $1 in
      rtmp) url=(-f flv "rtmp://$rw_rtmp/bench/m$name") ;;
      srt) url=(-f mpegts "srt://$rw_srt?streamid=publish:bench/s$name&latency=1000000") ;;
    esac
    ffmpeg -hide_banner -loglevel error -nostdin -re -stream_loop -1 -i "$src" -t "$seconds" -c copy \
      "${url[@]}" >"$work/ffmpeg-$1-$name.log" 2>&1 &
    ff+=("$!")
    pids+=("$!")
  done
  failed=0
  for p in "${ff[@]}"; do wait "$p" || failed=$((failed + 1)); done
}

last=$(printf %03d "$streams")
rows=()

# RTSP publish (the baseline).
start rtsp
t0=$(cpu_ticks "$rw_pid")
lg_failed=0
"$work/loadgen" -source "$src" -target "$rw_rtsp" -publishers "$streams" -duration "${seconds}s" \
  -group bench -prefix r >"$work/loadgen.json" 2>"$work/loadgen.log" || lg_failed=1
sleep 1
t1=$(cpu_ticks "$rw_pid")
measure rtsp "$t0" "$t1" "$lg_failed (loadgen exit)" "$(segments "http://$rw_http/out/v1/bench/r$last/default/index_video.m3u8")"
rtsp_per_min=$per_min
rows+=("${row/RATIO/1.00}")
stop

for proto in rtmp srt; do
  start "$proto"
  t0=$(cpu_ticks "$rw_pid")
  copies "$proto"
  sleep 1
  t1=$(cpu_ticks "$rw_pid")
  prefix=m; [ "$proto" = srt ] && prefix=s
  measure "$proto" "$t0" "$t1" "$failed" "$(segments "http://$rw_http/out/v1/bench/$prefix$last/default/index_video.m3u8")"
  ratio=$(awk -v a="$per_min" -v b="$rtsp_per_min" 'BEGIN {if (b>0) printf "%.2f", a/b; else print "?"}')
  rows+=("${row/RATIO/$ratio}")
  echo "PUBLISH $proto / rtsp CPU per stream-minute: $ratio"
  stop
done

echo "PUBLISH | protocol | streams | Rewind CPU s | CPU s / stream-min | / RTSP | channels recorded | frames received | dropped | publishers failed | video segments, last channel | Rewind warn/error lines |"
echo "PUBLISH |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf 'PUBLISH %s\n' "${rows[@]}"
