#!/usr/bin/env bash
# Rewind benchmarks (make bench). Loopback only; every process started here
# is stopped on exit. Writes the "Results" section of docs/BENCHMARKS.md.
#
#   (a) ingest: for N in BENCH_PUBLISHERS, a fresh Rewind on an empty data dir
#       takes N looped ~3 Mbps H.264+AAC RTSP publishers (cmd/loadgen) for
#       BENCH_SECONDS; we record Rewind's CPU (utime+stime), peak RSS (VmHWM),
#       frames received/dropped (its /metrics) and loadgen's late frames.
#   (b) serving: one 2 s video segment, fetched from Rewind and copied byte for
#       byte into an nginx root (worker_processes auto); the same wrk runs
#       against both at 32 and 256 connections. Then the four live manifests
#       (HLS multivariant and media, LL-HLS media, DASH) of a channel being
#       published, against nginx serving a copy of each one's bytes as a file.
#   (f) the demo channel: CPU of an idle Rewind with the built-in demo channel
#       (the default) against --demo=false (.ci/bench_demo.sh). The other
#       runs use --demo=false.
#   (h) publish: CPU per stream-minute of RTMP and SRT publish (ffmpeg -c copy)
#       against RTSP publish of the same source, BENCH_PUBLISH_STREAMS (50)
#       streams each (.ci/bench_publish.sh); rows below the ingest table.
#   (g) push: CPU per stream-minute of HTTP push (HLS/TS, ffmpeg -c copy)
#       against RTSP publish of the same source, BENCH_PUSH_STREAMS streams
#       (50) each (.ci/bench_push.sh).
#   (j) long windows: BenchmarkLongWindow (origin/longwindow_bench_test.go)
#       on an archive of each of BENCH_LONG_DAYS days ("14 30": a 14-day
#       and a 30-day archive), -benchtime BENCH_LONG_BENCHTIME (5s), with nginx serving
#       the same bytes to the same client as its same-run reference.
#
# At the end: "Issue 16 targets (same-run references)", one row per target
# of issue 16 with Rewind's number, the reference's from the same run, the
# ratio and met / NOT met, or "not run: why"; printed last and written at
# the top of the Results section.
#
# Knobs (environment): BENCH_SECONDS (60), BENCH_PUBLISHERS ("1 10 50 100"),
# WRK_SECONDS (15), WRK_THREADS (2), WRK_CONNECTIONS (32, manifests),
# WRK_SEGMENT_CONNECTIONS ("32 256"), WRK_ROUNDS (3: Rewind and nginx
# alternate, the medians are compared), BENCH_SECTIONS ("ingest publish
# mediamtx segment manifest render llhls longwindow harvest demo clip push":
# the parts to run; mediamtx runs .ci/bench_mediamtx.sh only with
# MEDIAMTX_BIN or MEDIAMTX_SRC), BENCH_LONG_DAYS ("14 30"), BENCH_LONG_BENCHTIME (5s),
# BENCH_HARVEST_HOURS ("1"), REWIND_BIN (bin/rewind), BENCH_OUT
# (docs/BENCHMARKS.md), BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
root=$PWD
bin=${REWIND_BIN:-$root/bin/rewind}
seconds=${BENCH_SECONDS:-60}
publishers=${BENCH_PUBLISHERS:-"1 10 50 100"}
wrk_seconds=${WRK_SECONDS:-15}
wrk_threads=${WRK_THREADS:-2}
wrk_conns=${WRK_CONNECTIONS:-32}
seg_conns=${WRK_SEGMENT_CONNECTIONS:-"32 256"}
sections=${BENCH_SECTIONS:-"ingest publish mediamtx segment manifest render llhls longwindow harvest demo clip push"}
wrk_rounds=${WRK_ROUNDS:-3}
out=${BENCH_OUT:-$root/docs/BENCHMARKS.md}
nginx=$(command -v nginx || echo /usr/sbin/nginx)

# want SECTION: SECTION is in BENCH_SECTIONS.
want() { [[ " $sections " == *" $1 "* ]]; }

log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in ffmpeg wrk curl go getconf "$nginx"; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (make bench-deps installs it)"
done
[ -x "$bin" ] || die "$bin missing: run make build (or set REWIND_BIN)"
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 5 ] && [ "$seconds" -le 600 ] ||
  die "BENCH_SECONDS=$seconds: want 5..600"

work=$(mktemp -d "${TMPDIR:-/tmp}/rewind-bench.XXXXXX")
pids=()

# cleanup stops everything this script started (by pid, never by name).
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  [ "$rc" = 0 ] || log "failed (exit $rc); logs in $work (kept with BENCH_KEEP=1)"
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() { # forget_pid PID: remove a stopped process from the cleanup list
  local p keep=()
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

clk_tck=$(getconf CLK_TCK)

# cpu_ticks PID: utime+stime of a process, in clock ticks. Field 2 (comm)
# may hold spaces, so cut after its closing parenthesis: utime and stime are
# then fields 12 and 13.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# machine_ticks: "busy total" jiffies of all CPUs from /proc/stat.
machine_ticks() { awk '/^cpu /{t=0; for (i=2; i<=NF; i++) t+=$i; print t-$5-$6, t; exit}' /proc/stat; }

hwm_kib() { awk '/^VmHWM:/{print $2}' "/proc/$1/status"; }

# metric_sum URL NAME: sum of every sample of a Prometheus counter (0 if absent).
metric_sum() {
  curl -sf "$1/metrics" | awk -v n="$2" '$1 ~ "^"n"([{]|$)" {s += $NF} END {printf "%.0f\n", s}'
}

# hls_summary URL: "count min–max" of the EXTINF durations of a media playlist.
hls_summary() {
  curl -sf "$1" | awk -F'[:,]' '/^#EXTINF:/{n++; d=$2+0; if (n==1||d<lo) lo=d; if (d>hi) hi=d}
    END {if (n) printf "%d × %.2f–%.2f s\n", n, lo, hi; else print "none"}' || echo "none"
}

# json_num FIELD < json: a numeric field of loadgen's flat JSON line.
json_num() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p"; }

# start_rewind NAME: starts Rewind on a fresh data dir; sets rw_pid, rw_http, rw_rtsp, rw_log.
start_rewind() {
  local dir=$work/$1
  mkdir -p "$dir/data"
  rw_log=$dir/rewind.log
  "$bin" serve --data-dir "$dir/data" --http-addr 127.0.0.1:0 --rtsp-addr 127.0.0.1:0 \
    --rtsp-udp-rtp-addr "" --rtsp-udp-rtcp-addr "" --rtmp-addr "" --srt-addr "" --demo=false >"$rw_log" 2>&1 &
  rw_pid=$!
  pids+=("$rw_pid")
  for _ in $(seq 150); do
    grep -q 'msg="rewind started"' "$rw_log" && break
    kill -0 "$rw_pid" 2>/dev/null || { cat "$rw_log" >&2; die "rewind exited at start"; }
    sleep 0.1
  done
  rw_http=$(sed -n 's/.*msg="rewind started".* http=\([^ ]*\).*/\1/p' "$rw_log" | head -1)
  rw_rtsp=$(sed -n 's/.*msg="rewind started".* rtsp=\([^ ]*\).*/\1/p' "$rw_log" | head -1)
  [[ $rw_http == 127.0.0.1:* && $rw_rtsp == 127.0.0.1:* ]] ||
    { cat "$rw_log" >&2; die "could not read loopback addresses from the rewind log"; }
  rw_http=http://$rw_http
}

# stop_rewind: SIGTERM, wait up to 30 s; sets rw_exit.
stop_rewind() {
  kill -TERM "$rw_pid" 2>/dev/null || true
  rw_exit=timeout
  for _ in $(seq 300); do
    if ! kill -0 "$rw_pid" 2>/dev/null; then
      rw_exit=0; wait "$rw_pid" || rw_exit=$?
      break
    fi
    sleep 0.1
  done
  if [ "$rw_exit" = timeout ]; then
    kill -KILL "$rw_pid" 2>/dev/null || true
    wait "$rw_pid" 2>/dev/null || true
  fi
  forget_pid "$rw_pid"
}

# log_counts FILE: "warnings errors" lines in a Rewind log.
log_counts() { printf '%s %s\n' "$(grep -c 'level=WARN' "$1" || true)" "$(grep -c 'level=ERROR' "$1" || true)"; }

# The issue 16 summary: one markdown row per target, sorted by item at the end.
# t16_row ITEM WHAT REWIND REFERENCE RATIO TARGET RESULT
t16_rows=()
t16_row() {
  local res=$7
  case $res in met | "NOT met") res="**$res**" ;; esac
  t16_rows+=("| $1 | $2 | $3 | $4 | $5 | $6 | $res |")
}
# t16_skip ITEM WHAT TARGET REASON: a row for a target this run did not measure.
t16_skip() { t16_row "$1" "$2" – – – "$3" "not run: $4"; }
# t16_fail ITEM WHAT TARGET REASON: a row for a target whose run failed.
t16_fail() { t16_row "$1" "$2" – – – "$3" "**failed**: $4"; }
# kv LINE KEY: the value of KEY=VALUE in a line of space-separated pairs.
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1" | head -1; }
# below A B: "met" when A < B, "NOT met" otherwise, "unknown" when A is
# not a number; le A B: the same for A <= B.
below() { awk -v a="$1" -v b="$2" 'BEGIN {if (a !~ /^[0-9]+([.][0-9]*)?$/) print "unknown"; else print (a+0 < b) ? "met" : "NOT met"}'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN {if (a !~ /^[0-9]+([.][0-9]*)?$/) print "unknown"; else print (a+0 <= b) ? "met" : "NOT met"}'; }

# ---------------------------------------------------------------- sources
log "work dir $work"
log "building cmd/loadgen"
go build -o "$work/loadgen" ./cmd/loadgen
go build -o "$work/nethttp_floor" .ci/nethttp_floor.go

src=$work/src.mp4
src_cmd="ffmpeg -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=1000:sample_rate=48000 -t 20 -c:v libx264 -preset veryfast -b:v 3M -maxrate 3M -bufsize 3M -g 60 -pix_fmt yuv420p -c:a aac -b:a 128k -f mp4 src.mp4"
log "encoding the 20 s source"
(cd "$work" && ffmpeg -hide_banner -loglevel error -y ${src_cmd#ffmpeg })
src_kbps=$(( $(stat -c %s "$src") * 8 / 20 / 1000 ))

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- (a) ingest
ingest_rows=()
want ingest || publishers=""
ingest_notes=()
pass_ingest=unknown
for n in $publishers; do
  log "ingest: $n publishers for ${seconds}s"
  start_rewind "ingest-$n"
  load0=$(cut -d' ' -f1 /proc/loadavg)
  read -r m_busy0 m_total0 < <(machine_ticks)
  t0=$(cpu_ticks "$rw_pid")
  lg_json=$("$work/loadgen" -source "$src" -target "$rw_rtsp" -publishers "$n" \
    -duration "${seconds}s" 2>"$work/ingest-$n/loadgen.log") || {
    cat "$work/ingest-$n/loadgen.log" >&2; die "loadgen failed ($n publishers)"; }
  sleep 1 # let the last frames through the queues
  t1=$(cpu_ticks "$rw_pid")
  read -r m_busy1 m_total1 < <(machine_ticks)
  load1=$(cut -d' ' -f1 /proc/loadavg)
  hwm=$(hwm_kib "$rw_pid")
  recv=$(metric_sum "$rw_http" rewind_ingest_frames_total)
  dropped=$(metric_sum "$rw_http" rewind_ingest_dropped_frames_total)
  rbytes=$(metric_sum "$rw_http" rewind_ingest_bytes_total)
  hls_first=$(hls_summary "$rw_http/out/v1/bench/p001/default/index_video.m3u8")
  hls_last=$(hls_summary "$rw_http/out/v1/bench/p$(printf %03d "$n")/default/index_video.m3u8")
  stop_rewind
  read -r warns errs < <(log_counts "$rw_log")
  echo "$lg_json" >"$work/ingest-$n/loadgen.json"

  sent=$(json_num frames_sent <<<"$lg_json")
  late=$(json_num late_frames <<<"$lg_json")
  max_late=$(json_num max_late_ms <<<"$lg_json")
  conn_fail=$(json_num connect_failures <<<"$lg_json")
  wr_err=$(json_num write_errors <<<"$lg_json")
  early=$(json_num ended_early <<<"$lg_json")
  lg_cpu=$(json_num loadgen_cpu_s <<<"$lg_json" | awk '{printf "%.1f", $1}')
  max_late=$(awk -v v="$max_late" 'BEGIN {printf "%.0f", v}')
  cpu_s=$(awk -v a="$t0" -v b="$t1" -v t="$clk_tck" 'BEGIN {printf "%.2f", (b-a)/t}')
  per_min=$(awk -v c="$cpu_s" -v n="$n" -v s="$seconds" 'BEGIN {printf "%.3f", c/(n*s/60)}')
  mbps=$(awk -v b="$rbytes" -v s="$seconds" 'BEGIN {printf "%.0f", b*8/s/1e6}')
  busy=$(awk -v b0="$m_busy0" -v b1="$m_busy1" -v t0="$m_total0" -v t1="$m_total1" \
    'BEGIN {d=t1-t0; if (d>0) printf "%.0f", 100*(b1-b0)/d; else print "?"}')
  ingest_rows+=("| $n | $cpu_s | $per_min | $((hwm / 1024)) | $sent | $recv | $dropped | $late | $max_late | $conn_fail / $wr_err / $early | $mbps | $lg_cpu | $busy | $load0 → $load1 | $hls_first; $hls_last | $warns / $errs / $rw_exit |")
  if [ "$warns" != 0 ] || [ "$errs" != 0 ]; then
    ingest_notes+=("- $n publishers: first Rewind warnings/errors:")
    while IFS= read -r line; do ingest_notes+=("  \`${line//|/\\|}\`"); done < <(grep -m 5 'level=WARN\|level=ERROR' "$rw_log")
  fi
  if [ "$(json_num connect_failures <<<"$lg_json")" != 0 ] || [ "$early" != 0 ]; then
    ingest_notes+=("- $n publishers: loadgen first_error: \`$(sed -n 's/.*"first_error":"\([^"]*\)".*/\1/p' <<<"$lg_json")\`")
  fi
  if [ "$n" = 100 ]; then
    if [ "$dropped" = 0 ] && [ "$conn_fail" = 0 ] && [ "$early" = 0 ] && [ "$recv" -ge "$sent" ]; then
      pass_ingest=met; else pass_ingest="NOT met"; fi
  fi
  log "ingest $n: cpu ${cpu_s}s (${per_min}/stream-min), hwm ${hwm} KiB, sent $sent recv $recv dropped $dropped late $late"
done

# ---------------------------------------------------------------- (b) serving
# One Rewind and one nginx (worker_processes auto: on every CPU, the fair
# baseline) serve the same bytes; every comparison alternates the two.
log "serving: publishing one stream for 12 s"
start_rewind serve
"$work/loadgen" -source "$src" -target "$rw_rtsp" -publishers 1 -duration 12s \
  -group bench -prefix serve >"$work/serve/loadgen.json" 2>"$work/serve/loadgen.log" ||
  { cat "$work/serve/loadgen.log" >&2; die "loadgen failed (serving)"; }
playlist_url=$rw_http/out/v1/bench/serve001/default/index_video.m3u8
curl -sf "$playlist_url" >"$work/serve/index_video.m3u8" || die "no playlist at $playlist_url"
# A complete 2 s segment: the first listed with EXTINF 2.0 (the first segment
# of a session may be longer, the last one shorter).
seg=$(awk '/^#EXTINF:2\.0*,/{getline; print; exit}' "$work/serve/index_video.m3u8")
[ -n "$seg" ] || { cat "$work/serve/index_video.m3u8" >&2; die "no 2 s segment in the playlist"; }
rewind_url=$rw_http/out/v1/bench/serve001/default/$seg
www=$work/nginx/www
mkdir -p "$www/seg" "$work/nginx/tmp"
curl -sf -o "$www/seg/segment.m4s" "$rewind_url" || die "GET $rewind_url failed"
curl -sf "$rewind_url" | cmp -s - "$www/seg/segment.m4s" || die "segment bytes differ between two GETs"
seg_bytes=$(stat -c %s "$www/seg/segment.m4s")
seg_type=$(curl -sf -o /dev/null -w '%{content_type}' "$rewind_url")
# nginx workers may run as an unprivileged user: make the root readable.
chmod 755 "$work" "$work/nginx" "$www" "$www/seg"
chmod 644 "$www/seg/segment.m4s"

temp_paths="client_body_temp_path $work/nginx/tmp/body;"
for m in proxy fastcgi uwsgi scgi; do
  "$nginx" -V 2>&1 | grep -q -- "--without-http_${m}_module" ||
    temp_paths+=" ${m}_temp_path $work/nginx/tmp/$m;"
done
nginx_port=
for _ in $(seq 20); do
  port=$((20000 + RANDOM % 40000))
  cat >"$work/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  access_log off;
  $temp_paths
  types { video/iso.segment m4s; application/vnd.apple.mpegurl m3u8; application/dash+xml mpd; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port;
    root $www;
  }
}
EOF
  "$nginx" -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  ng_pid=$!
  pids+=("$ng_pid")
  ok=
  for _ in $(seq 50); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/seg/segment.m4s"; then ok=1; break; fi
    kill -0 "$ng_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -n "$ok" ]; then nginx_port=$port; break; fi
  kill -TERM "$ng_pid" 2>/dev/null || true; wait "$ng_pid" 2>/dev/null || true; forget_pid "$ng_pid"
done
[ -n "$nginx_port" ] || { cat "$work/nginx/error.log" >&2 || true; die "nginx did not start"; }
nginx_url=http://127.0.0.1:$nginx_port/seg/segment.m4s
curl -sf "$nginx_url" | cmp -s - "$www/seg/segment.m4s" || die "nginx serves different bytes"
nginx_workers=$(grep -c . <(cat /proc/"$ng_pid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep .) || true)

# nginx_cpu_ticks: master + workers.
nginx_cpu_ticks() {
  local s p
  s=$(cpu_ticks "$ng_pid")
  for p in $(cat /proc/"$ng_pid"/task/*/children 2>/dev/null); do s=$((s + $(cpu_ticks "$p"))); done
  echo "$s"
}

# run_wrk NAME URL CPUFN CONNS: one measured wrk run; sets w_row (a table
# row), w_rps and w_eff (requests per server CPU-second, 0 if unknown).
run_wrk() {
  local c0 c1 f=$work/wrk-${1//[^A-Za-z0-9]/_}.txt rps mbs err lat cpu eff load
  load=$(cut -d' ' -f1 /proc/loadavg)
  c0=$($3)
  wrk -t"$wrk_threads" -c"$4" -d"${wrk_seconds}s" --latency "$2" >"$f" 2>&1 ||
    die "wrk $1 failed: $(cat "$f")"
  c1=$($3)
  rps=$(awk '/^Requests\/sec:/{printf "%.0f", $2}' "$f")
  mbs=$(awk '/^Transfer\/sec:/{v=$2; u=substr(v, length(v)-1); v=v+0;
    if (u=="GB") v*=1024; else if (u=="KB") v/=1024; else if (u!="MB") v/=1048576; printf "%.0f", v}' "$f")
  err=$(awk '/Non-2xx|Socket errors/{sub(/^ +/, ""); printf "%s; ", $0}' "$f")
  lat=$(awk '/^ +50%/{p50=$2} /^ +99%/{p99=$2} END {print p50 " / " p99}' "$f")
  cpu=$(awk -v a="$c0" -v b="$c1" -v t="$clk_tck" 'BEGIN {printf "%.1f", (b-a)/t}')
  eff=$(awk -v r="$rps" -v c="$cpu" -v s="$wrk_seconds" 'BEGIN {if (c>0) printf "%.0f", r*s/c; else print 0}')
  w_row="| $1 | $4 | $rps | $mbs | $lat | $cpu | $eff | $load | ${err:-none} |"
  w_rps=$rps w_eff=$eff
  log "serving: $1 ($4 connections): $rps req/s"
}

# median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {printf "%.0f\n", (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# ratio A B: A/B with two decimals ("?" when B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b>0) printf "%.2f", a/b; else print "?"}'; }

rewind_cpu() { cpu_ticks "$rw_pid"; }
floor_cpu() { cpu_ticks "$fl_pid"; }

# compare LABEL BYTES REWIND_URL NGINX_URL CONNS TARGET: a 2 s warm-up of
# each, then WRK_ROUNDS alternating wrk runs; appends the rounds to
# round_rows and one line to summary_rows (medians, their ratio, the ratio
# of requests per server CPU-second, and whether TARGET is met); sets
# cmp_rw, cmp_ng (the medians), cmp_q (their ratio) and cmp_met.
# FLOOR_URL (optional 7th argument): the same bytes from bare net/http
# (.ci/nethttp_floor.go), measured in the same rounds: how close Go's HTTP
# server itself comes to nginx.
round_rows=() summary_rows=() summary_lines=()
compare() {
  local label=$1 bytes=$2 rw_url=$3 ng_url=$4 conns=$5 target=$6 floor_url=${7:-} r rws=() ngs=() fls=() rwe=() nge=() rw ng q eff met fl=– flq=–
  wrk -t"$wrk_threads" -c"$conns" -d2s "$rw_url" >/dev/null 2>&1 || true
  wrk -t"$wrk_threads" -c"$conns" -d2s "$ng_url" >/dev/null 2>&1 || true
  for r in $(seq "$wrk_rounds"); do
    run_wrk "$label, Rewind #$r" "$rw_url" rewind_cpu "$conns"; rws+=("$w_rps") rwe+=("$w_eff") round_rows+=("$w_row")
    run_wrk "$label, nginx #$r" "$ng_url" nginx_cpu_ticks "$conns"; ngs+=("$w_rps") nge+=("$w_eff") round_rows+=("$w_row")
    if [ -n "$floor_url" ]; then
      run_wrk "$label, net/http floor #$r" "$floor_url" floor_cpu "$conns"; fls+=("$w_rps") round_rows+=("$w_row")
    fi
  done
  rw=$(median "${rws[@]}") ng=$(median "${ngs[@]}")
  q=$(ratio "$rw" "$ng") eff=$(ratio "$(median "${rwe[@]}")" "$(median "${nge[@]}")")
  if [ -n "$floor_url" ]; then fl=$(median "${fls[@]}"); flq=$(ratio "$fl" "$ng"); fi
  met=$(awk -v r="$q" -v t="$target" 'BEGIN {print (r+0 >= t) ? "met" : "NOT met"}')
  cmp_rw=$rw cmp_ng=$ng cmp_q=$q cmp_met=$met
  summary_rows+=("| $label | $bytes | $conns | $rw | $ng | **$q** | $eff | $fl ($flq) | ≥ $target: **$met** |")
  summary_lines+=("SERVE $label ($bytes B, $conns connections): Rewind $rw req/s, nginx $ng req/s, ratio $q (per server CPU-s: $eff; net/http floor $fl req/s, $flq), target $target $met")
  log "${summary_lines[-1]}"
}

if want segment; then
  log "serving: Rewind $rewind_url, nginx $nginx_url; $wrk_rounds rounds at $seg_conns connections"
  for c in $seg_conns; do
    compare "2 s video segment" "$seg_bytes" "$rewind_url" "$nginx_url" "$c" 1.0
    t16_row 2 "2 s video segment ($seg_bytes B), $c connections, req/s (median of $wrk_rounds)" "$cmp_rw" \
      "nginx \`worker_processes auto\`, same bytes: $cmp_ng" "$cmp_q" "≥ 1.0" "$cmp_met"
  done
else
  for c in $seg_conns; do t16_skip 2 "2 s video segment, $c connections, req/s" "≥ 1.0" "BENCH_SECTIONS has no segment"; done
fi

# ------------------------------------------------------ (b2) live manifests
# A channel published for the whole measurement, so the manifests are live
# and change every segment (and LL-HLS every part): Rewind renders once per
# change, the manifest cache serves the rest. nginx serves a copy of each
# manifest's bytes as a file.
manifest_files="index.m3u8 index_video.m3u8 low-latency_video.m3u8 index.mpd"
manifest_labels=("HLS multivariant playlist" "HLS media playlist" "LL-HLS media playlist (non-blocking)" "DASH MPD")
pl_hits=0 pl_misses=0
if want manifest; then
  pl_seconds=$((4 * (2 * wrk_rounds * wrk_seconds + 4) + 30))
  log "manifests: publishing one stream for ${pl_seconds}s"
  "$work/loadgen" -source "$src" -target "$rw_rtsp" -publishers 1 -duration "${pl_seconds}s" \
    -group bench -prefix live >"$work/serve/loadgen-live.json" 2>"$work/serve/loadgen-live.log" &
  lg_pid=$!
  pids+=("$lg_pid")
  live_base=$rw_http/out/v1/bench/live001/default
  mkdir -p "$www/live"
  chmod 755 "$www/live"
  pl_ok=
  for _ in $(seq 100); do
    # Two segments listed: the playlist has its steady shape.
    if curl -sf -o "$www/live/index_video.m3u8" "$live_base/index_video.m3u8" &&
      [ "$(grep -c '^#EXTINF' "$www/live/index_video.m3u8")" -ge 2 ]; then pl_ok=1; break; fi
    kill -0 "$lg_pid" 2>/dev/null || break
    sleep 0.2
  done
  [ -n "$pl_ok" ] || { cat "$work/serve/loadgen-live.log" >&2; die "no live playlist at $live_base/index_video.m3u8"; }
  hits0=$(metric_sum "$rw_http" rewind_manifest_cache_hits_total)
  misses0=$(metric_sum "$rw_http" rewind_manifest_cache_misses_total)
  i=0
  for f in $manifest_files; do
    curl -sf -o "$www/live/$f" "$live_base/$f" || die "no manifest at $live_base/$f"
    chmod 644 "$www/live/$f"
    curl -sf "http://127.0.0.1:$nginx_port/live/$f" | cmp -s - "$www/live/$f" || die "nginx serves different bytes of $f"
    mime=$(curl -sf -o /dev/null -w '%{content_type}' "$live_base/$f")
    fl_port=$((20000 + RANDOM % 40000))
    "$work/nethttp_floor" "127.0.0.1:$fl_port" "$www/live/$f" "$mime" 2>"$work/serve/floor-$f.log" &
    fl_pid=$!
    pids+=("$fl_pid")
    for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$fl_port/" && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$fl_port/" | cmp -s - "$www/live/$f" || die "net/http floor serves different bytes of $f"
    compare "${manifest_labels[$i]}" "$(stat -c %s "$www/live/$f")" "$live_base/$f" \
      "http://127.0.0.1:$nginx_port/live/$f" "$wrk_conns" 0.8 "http://127.0.0.1:$fl_port/"
    t16_row 1 "${manifest_labels[$i]}, $wrk_conns connections, req/s (median of $wrk_rounds)" "$cmp_rw" \
      "nginx, same bytes as a file: $cmp_ng" "$cmp_q" "≥ 0.8" "$cmp_met"
    kill -TERM "$fl_pid" 2>/dev/null || true
    wait "$fl_pid" 2>/dev/null || true
    forget_pid "$fl_pid"
    i=$((i + 1))
  done
  pl_hits=$(( $(metric_sum "$rw_http" rewind_manifest_cache_hits_total) - hits0 ))
  pl_misses=$(( $(metric_sum "$rw_http" rewind_manifest_cache_misses_total) - misses0 ))
  kill -TERM "$lg_pid" 2>/dev/null || true
  wait "$lg_pid" 2>/dev/null || true
  forget_pid "$lg_pid"
else
  for l in "${manifest_labels[@]}"; do t16_skip 1 "$l, $wrk_conns connections, req/s" "≥ 0.8" "BENCH_SECTIONS has no manifest"; done
fi
printf '%s\n' "${summary_lines[@]}"

stop_rewind
read -r s_warns s_errs < <(log_counts "$rw_log")

# ---------------------------------------------------------------- (c) manifests, (d) LL-HLS
render_cmd="go test -run '^\$' -bench 'BenchmarkRenderMPD|BenchmarkRenderMedia24h' -benchtime 2s -count 1 ./packager/dash/ ./packager/hls/"
log "manifest rendering: $render_cmd"
render_out="(not run: BENCH_SECTIONS)"
want render && render_out=$(cd "$root" && eval "$render_cmd" 2>&1 | grep -E '^Benchmark' || true)
# One process per case: the RSS growth is measured against the process's own peak.
clip_cmd="go test -run '^\$' -bench 'BenchmarkClip24h/^CASE\$' -benchtime 1x -count 1 ./packager/mp4clip/   # CASE: no-B-frames, B-frames"
clip_out="(not run: BENCH_SECTIONS)"
want clip && { log "MP4 clip (24 h): $clip_cmd"; clip_out=$(cd "$root" && for c in no-B-frames B-frames; do
  go test -run '^$' -bench "BenchmarkClip24h/^$c\$" -benchtime 1x -count 1 ./packager/mp4clip/ 2>&1 | grep -E '^Benchmark' || true
done); }
llhls_cmd="REWIND_BENCH_LLHLS_SECONDS=30 go test -count=1 -run TestLLHLSBlockedRequestsCPU -v ./origin/"
log "LL-HLS blocked requests: $llhls_cmd"
llhls_out="(not run: BENCH_SECTIONS)"
want llhls && llhls_out=$(cd "$root" && eval "$llhls_cmd" 2>&1 | grep -E 'llhls-blocked-bench' || true)

# ---------------------------------------------------------------- (j) long windows (issue 16 item 5)
# BenchmarkLongWindow fills an archive of DAYS days (~2 minutes for 14
# here) and GETs a 14-day MPD and a 24 h media playlist through the origin;
# the same Go client fetches the same bytes from nginx (REWIND_BENCH_NGINX)
# after each request: the same-run reference.
long_days=${BENCH_LONG_DAYS:-"14 30"}
long_benchtime=${BENCH_LONG_BENCHTIME:-5s}
for d in $long_days; do
  [[ $d =~ ^[0-9]+$ ]] && [ "$d" -ge 1 ] && [ "$d" -le 60 ] || die "BENCH_LONG_DAYS=\"$long_days\": want days in 1..60"
done
[[ $long_benchtime =~ ^[0-9]+(x|s)$ ]] || die "BENCH_LONG_BENCHTIME=$long_benchtime: want Nx or Ns"
longwin_cmd="REWIND_BENCH_LONG_DAYS=DAYS REWIND_BENCH_NGINX=$nginx go test -run '^\$' -bench '^BenchmarkLongWindow\$' -benchtime $long_benchtime -count 1 -timeout 60m ./origin/"
declare -A longwin_out=() longwin_rc=()
if want longwindow; then
  for d in $long_days; do
    log "long windows, $d days: ${longwin_cmd/=DAYS/=$d}"
    rc=0
    (cd "$root" && REWIND_BENCH_LONG_DAYS=$d REWIND_BENCH_NGINX=$nginx go test -run '^$' -bench '^BenchmarkLongWindow$' \
      -benchtime "$long_benchtime" -count 1 -timeout 60m ./origin/) >"$work/longwindow-$d.txt" 2>&1 || rc=$?
    longwin_rc[$d]=$rc
    longwin_out[$d]=$(grep -E '^(Benchmark|--- (BENCH|FAIL)|FAIL|panic)|_test\.go:[0-9]+:' "$work/longwindow-$d.txt" || true)
    [ "$rc" = 0 ] || log "long windows, $d days: go test exit $rc (output in $work/longwindow-$d.txt)"
  done
fi

# ---------------------------------------------------------------- (h) RTMP and SRT vs RTSP
publish_cmd="BENCH_PUBLISH_STREAMS=${BENCH_PUBLISH_STREAMS:-50} BENCH_PUBLISH_SECONDS=$seconds bash .ci/bench_publish.sh"
publish_out="(not run: BENCH_SECTIONS)"
want publish && { log "RTMP and SRT vs RTSP: $publish_cmd"; publish_out=$(cd "$root" && REWIND_BIN="$bin" BENCH_PUBLISH_SOURCE="$src" eval "$publish_cmd" 2>&1 | grep -E '^PUBLISH' || true); }

# ---------------------------------------------------------------- (i) ingest against MediaMTX
mtx_cmd="BENCH_MTX_PUBLISHERS=${BENCH_MTX_PUBLISHERS:-200} BENCH_MTX_SECONDS=$seconds bash .ci/bench_mediamtx.sh"
mtx_out="(not run: BENCH_SECTIONS)"
if want mediamtx; then
  if [ -n "${MEDIAMTX_BIN:-}${MEDIAMTX_SRC:-}" ]; then
    log "ingest against MediaMTX: $mtx_cmd"
    mtx_out=$(cd "$root" && REWIND_BIN="$bin" BENCH_PUBLISH_SOURCE="$src" eval "$mtx_cmd" 2>&1 | grep -E '^MTX|bench_mediamtx' || true)
  else
    mtx_out="(not run: set MEDIAMTX_BIN or MEDIAMTX_SRC; MediaMTX is not in the Go module proxy, see .ci/bench_mediamtx.sh)"
  fi
fi

# ---------------------------------------------------------------- (e) harvest
harvest_cmd="HOURS=\"${BENCH_HARVEST_HOURS:-1}\" bash .ci/bench_harvest.sh"
log "harvest: $harvest_cmd"
harvest_out="(not run: BENCH_SECTIONS)"
want harvest && harvest_out=$(cd "$root" && eval "$harvest_cmd" 2>&1 | grep -E '^HARVEST' || true)

# ---------------------------------------------------------------- issue 16 rows of items 3-5
# Item 3: the MTX_RESULT line of bench_mediamtx.sh.
mtx_n=${BENCH_MTX_PUBLISHERS:-200}
mtx_cpu_what="ingest CPU s per stream-minute, $mtx_n RTSP publishers (median of rounds)"
mtx_rss_what="ingest peak RSS MiB, $mtx_n RTSP publishers (median of rounds)"
mtx_why= mtx_row=t16_skip
if ! want mediamtx; then mtx_why="BENCH_SECTIONS has no mediamtx"
elif [ -z "${MEDIAMTX_BIN:-}${MEDIAMTX_SRC:-}" ]; then mtx_why="MediaMTX not available (set MEDIAMTX_BIN or MEDIAMTX_SRC)"
elif ! mtx_line=$(grep -m1 '^MTX_RESULT ' <<<"$mtx_out"); then
  mtx_why="bench_mediamtx.sh printed no MTX_RESULT (its output is below)" mtx_row=t16_fail
fi
if [ -n "$mtx_why" ]; then
  $mtx_row 3 "$mtx_cpu_what" "≤ 0.6" "$mtx_why"
  $mtx_row 3 "$mtx_rss_what" "≤ 1.0" "$mtx_why"
else
  mtx_ver=$(sed -n 's/.* mediamtx_version=//p' <<<"$mtx_line")
  for m in "cpu_per_min 0.6 $mtx_cpu_what" "rss_mib 1.0 $mtx_rss_what"; do
    read -r key tgt what <<<"$m"
    rw_v=$(kv "$mtx_line" "rewind_$key") mx_v=$(kv "$mtx_line" "mediamtx_$key")
    q=$(ratio "$rw_v" "$mx_v")
    met=$(le "$q" "$tgt")
    [ "$mtx_n" = 200 ] || met="**$met** at $mtx_n publishers (the target is at 200)"
    t16_row 3 "$what" "$rw_v" "MediaMTX $mtx_ver (fMP4 recording), same load: $mx_v" "$q" "≤ $tgt" "$met"
  done
fi

# Item 4: the HARVEST lines of bench_harvest.sh (wall_s: the export with the
# runner's parallel workers, median; cp_package_*: cp -r of the package).
harvest_hours=${BENCH_HARVEST_HOURS:-1}
for h in 1 24; do
  what="harvest of $h h (HLS + DASH package to a local folder), wall s"
  tgt="< 2 s at 24 h on XFS"
  if ! want harvest; then t16_skip 4 "$what" "$tgt" "BENCH_SECTIONS has no harvest"; continue; fi
  if [[ " $harvest_hours " != *" $h "* ]]; then
    t16_skip 4 "$what" "$tgt" "BENCH_HARVEST_HOURS=\"$harvest_hours\" (\"1 24\" adds 24 h)"; continue
  fi
  if ! line=$(grep -m1 "^HARVEST hours=$h " <<<"$harvest_out"); then
    t16_fail 4 "$what" "$tgt" "no HARVEST line for $h h (the output of bench_harvest.sh is below)"; continue
  fi
  fs=$(kv "$line" fs) wall=$(kv "$line" wall_s) mode=$(kv "$line" cp_package_mode) cpw=$(kv "$line" cp_package_wall_s)
  if [ "$mode" = - ] || [ -z "$mode" ]; then ref="no cp of the package (no room for a copy on $fs)" q=–
  else ref="\`cp -r $mode\` of the package: $cpw" q=$(ratio "$wall" "$cpw"); fi
  if [ "$h" != 24 ]; then met="no target at $h h"
  elif [ "$fs" != xfs ]; then met="not comparable: $fs (the target is on XFS)"
  else met=$(below "$wall" 2); fi
  t16_row 4 "${what/wall s/wall s, $fs}" "$wall" "$ref" "$q" "$tgt" "$met"
done

# Item 5: BenchmarkLongWindow's "repeated" rows (the manifest cache on):
# the 14-day run (or the longest run when there is none) for the targets,
# the 30-day run for "works".
# lw_metric DAYS NAME UNIT: the value before UNIT on the line of sub-benchmark NAME.
lw_metric() {
  awk -v n="BenchmarkLongWindow/$2" -v u="$3" '{name = $1; sub(/-[0-9]+$/, "", name)}
    name == n {for (i = 3; i <= NF; i++) if ($i == u) {print $(i-1); exit}}' <<<"${longwin_out[$1]:-}"
}
lw_main=
for d in $long_days; do
  if [ "$d" = 14 ]; then lw_main=14; break; fi
  [ -n "$lw_main" ] && [ "$d" -le "$lw_main" ] || lw_main=$d
done
lw_win=$((lw_main < 14 ? lw_main : 14))
lw_rows=("${lw_win}d-mpd|${lw_win}-day DASH MPD (${lw_main}-day archive), repeated (cache on), p99 ms|20|14 days"
  "24h-hls|24 h HLS media playlist (${lw_main}-day archive), repeated (cache on), p99 ms|50|")
for r in "${lw_rows[@]}"; do
  IFS='|' read -r name what tgt need <<<"$r"
  if ! want longwindow; then t16_skip 5 "$what" "p99 < $tgt ms" "BENCH_SECTIONS has no longwindow"; continue; fi
  p99=$(lw_metric "$lw_main" "$name/repeated" p99-ms)
  if [ -z "$p99" ]; then
    t16_fail 5 "$what" "p99 < $tgt ms" "no $name/repeated line (go test exit ${longwin_rc[$lw_main]}; its output is below)"; continue
  fi
  np99=$(lw_metric "$lw_main" "$name/repeated" nginx-p99-ms) q=$(lw_metric "$lw_main" "$name/repeated" p99-x-nginx)
  over=$(lw_metric "$lw_main" "$name/repeated" over-20ms)
  n=$(awk -v n="$name/repeated" '{name = $1; sub(/-[0-9]+$/, "", name); sub(/^BenchmarkLongWindow\//, "", name)}
    name == n {print $2; exit}' <<<"${longwin_out[$lw_main]:-}")
  # go test prints custom metrics as decimals ("1.000"): a count of requests.
  [ -n "$over" ] && what="$what ($(awk -v x="$over" 'BEGIN {printf "%d", x}') of $n requests > 20 ms)"
  if [ -n "$np99" ]; then ref="nginx, same bytes as a file, same client: $np99"; q=$(awk -v q="$q" 'BEGIN {printf "%.2f", q}')
  else ref="none reported (REWIND_BENCH_NGINX unset?)" q=–; fi
  if [ -n "$need" ] && [ "$lw_win" -lt 14 ]; then met="not comparable: a $lw_win-day window (the target is for $need)"
  else met=$(below "$p99" "$tgt"); fi
  t16_row 5 "$what" "$p99" "$ref" "$q" "p99 < $tgt ms" "$met"
done
what="30-day archive: the 14-day MPD and the 24 h playlist served, repeated p99 ms"
if ! want longwindow; then t16_skip 5 "$what" "works" "BENCH_SECTIONS has no longwindow"
elif [[ " $long_days " != *" 30 "* ]]; then t16_skip 5 "$what" "works" "BENCH_LONG_DAYS=\"$long_days\" (the default \"14 30\" has it)"
else
  mp=$(lw_metric 30 14d-mpd/repeated p99-ms) hp=$(lw_metric 30 24h-hls/repeated p99-ms)
  nmp=$(lw_metric 30 14d-mpd/repeated nginx-p99-ms) nhp=$(lw_metric 30 24h-hls/repeated nginx-p99-ms)
  if [ -n "$mp" ] && [ -n "$hp" ] && [ "${longwin_rc[30]}" = 0 ]; then met=met; else met="NOT met"; fi
  t16_row 5 "$what" "MPD ${mp:-–}, HLS ${hp:-–}" "nginx: MPD ${nmp:-–}, HLS ${nhp:-–}" – "works" "$met"
fi

# ---------------------------------------------------------------- (f) demo channel
demo_cmd="BENCH_DEMO_SECONDS=$seconds bash .ci/bench_demo.sh"
demo_out="(not run: BENCH_SECTIONS)"
want demo && { log "demo channel: $demo_cmd"; demo_out=$(cd "$root" && REWIND_BIN="$bin" eval "$demo_cmd" 2>&1 | grep -E '^DEMO' || true); }

# ---------------------------------------------------------------- (g) push vs RTSP
push_cmd="BENCH_PUSH_STREAMS=${BENCH_PUSH_STREAMS:-50} BENCH_PUSH_SECONDS=$seconds bash .ci/bench_push.sh"
push_out="(not run: BENCH_SECTIONS)"
want push && { log "push vs RTSP: $push_cmd"; push_out=$(cd "$root" && REWIND_BIN="$bin" BENCH_PUSH_SOURCE="$src" eval "$push_cmd" 2>&1 | grep -E '^PUSH' || true); }

# ---------------------------------------------------------------- report
cpu_model=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
gen=$work/results.md
t16=$work/issue16.md
{
  echo "### Issue 16 targets (same-run references)"
  echo
  echo "Each row's reference ran in this run, on this machine, against the same bytes or load; the ratio is Rewind / reference (details in the sections below)."
  echo
  echo "| item | measurement | Rewind | reference, same run | Rewind / reference | target | result |"
  echo "|---:|---|---:|---|---:|---|---|"
  printf '%s\n' "${t16_rows[@]}" | sort -s -t'|' -k2,2n
} >"$t16"
{
  echo "## Results"
  echo
  echo "_Generated by \`make bench\` (.ci/bench.sh) — do not edit below this line by hand._"
  echo
  echo "- date: $started"
  echo "- machine: $(nproc) CPUs, ${cpu_model:-unknown}, $(free -g 2>/dev/null | awk '/^Mem:/{print $2 " GiB RAM"}')"
  echo "- kernel: $(uname -sr); $(go version | cut -d' ' -f3-4)"
  echo "- tools: $(ffmpeg -version | head -1 | cut -d' ' -f1-3); $("$nginx" -v 2>&1 | sed 's/^nginx version: //'); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "- rewind: \`$("$bin" --version 2>/dev/null | head -1 || echo "$bin")\`"
  echo "- load average before the runs: $load_before (other work on the machine competes for the same CPUs)"
  echo
  cat "$t16"
  echo
  echo "### Commands"
  echo
  echo '```sh'
  echo "$src_cmd   # ${src_kbps} kbit/s incl. audio"
  echo "rewind serve --data-dir FRESH_TMP --http-addr 127.0.0.1:0 --rtsp-addr 127.0.0.1:0 --rtsp-udp-rtp-addr '' --rtsp-udp-rtcp-addr '' --rtmp-addr '' --srt-addr '' --demo=false"
  echo "loadgen -source src.mp4 -target RTSP_ADDR -publishers N -duration ${seconds}s   # N in: $publishers"
  echo "wrk -t$wrk_threads -cN -d${wrk_seconds}s --latency URL   # N: $seg_conns (segment), $wrk_conns (manifests); after a 2 s warm-up of each; Rewind, nginx, repeated $wrk_rounds times"
  echo "${longwin_cmd}   # DAYS in: $long_days"
  echo "BENCH_SECTIONS=\"$sections\"   # the parts run"
  echo '```'
  echo
  echo "### Ingest (${seconds} s per run, a fresh Rewind per row)"
  echo
  echo "| publishers | Rewind CPU s | CPU s / stream-min | peak RSS MiB | frames sent | frames received | dropped | late (>100 ms) | max late ms | connect fail / write err / ended early | ingest Mbit/s | loadgen CPU s | machine busy % | load 1m | video playlist p001; last channel | Rewind warn / error / exit |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|:---:|:---:|:---:|"
  printf '%s\n' "${ingest_rows[@]}"
  echo
  echo "Target (100 publishers, no dropped frames): **$pass_ingest**."
  if [ ${#ingest_notes[@]} -gt 0 ]; then echo; printf '%s\n' "${ingest_notes[@]}"; fi
  echo
  echo "### Ingest by protocol: RTMP and SRT against RTSP, CPU per stream-minute, ${seconds} s"
  echo
  echo '```sh'
  echo "$publish_cmd"
  echo '```'
  echo
  sed -n 's/^PUBLISH |/|/p' <<<"${publish_out:-}"
  echo
  echo '```'
  grep -v '^PUBLISH |' <<<"${publish_out:-(no output)}" || true
  echo '```'
  echo
  echo "### Ingest against MediaMTX (RTSP, fMP4 recording), ${BENCH_MTX_PUBLISHERS:-200} publishers, ${seconds} s"
  echo
  echo '```sh'
  echo "$mtx_cmd"
  echo '```'
  echo
  sed -n 's/^MTX |/|/p' <<<"${mtx_out:-}"
  echo
  echo '```'
  grep -v '^MTX |' <<<"${mtx_out:-(no output)}" || true
  echo '```'
  echo
  echo "### Serving: Rewind against nginx, same bytes, same run"
  echo
  echo "nginx $("$nginx" -v 2>&1 | sed 's/.*nginx\///'): \`worker_processes auto\` (${nginx_workers:-?} workers), sendfile, files with the bytes Rewind served. Rewind: the 2 s segment \`/out/v1/bench/serve001/default/$seg\` (${seg_bytes} B, \`$seg_type\`), and the manifests of \`/out/v1/bench/live001/default/\` while loadgen publishes that channel (they change every 2 s segment, LL-HLS every part; the manifest cache renders once per change). Medians of $wrk_rounds alternating ${wrk_seconds} s wrk rounds; \"per CPU-s\" is the ratio of requests per server CPU-second (less sensitive to neighbours on the machine than requests/s); \"bare net/http\" is \`.ci/nethttp_floor.go\` serving the manifest's bytes with Rewind's headers from Go's HTTP server alone, in the same rounds: the floor an origin on net/http can reach. wrk runs on the same CPUs as the servers."
  echo
  echo "| path | bytes | connections | Rewind req/s | nginx req/s | Rewind / nginx | per CPU-s, Rewind / nginx | bare net/http req/s (/ nginx) | target |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${summary_rows[@]}"
  echo
  echo "Manifest cache during the manifest rounds (warm-ups included): $pl_hits hits, $pl_misses misses. Rewind log during the serving runs: $s_warns warnings, $s_errs errors."
  echo
  echo "<details><summary>Every round</summary>"
  echo
  echo "| run | connections | requests/s | MiB/s | latency p50 / p99 | server CPU s | requests / server CPU s | load 1m before | errors |"
  echo "|---|---:|---:|---:|:---:|---:|---:|---:|---|"
  printf '%s\n' "${round_rows[@]}"
  echo
  echo "</details>"
  echo
  echo "### Manifest rendering (synthetic index of 2 s segments; p50/p99 per render)"
  echo
  echo '```sh'
  echo "$render_cmd"
  echo '```'
  echo
  echo '```'
  echo "${render_out:-(no output)}"
  echo '```'
  echo
  echo "### MP4 clip of 24 h (2.16 M samples; peak RSS growth, heap held, header size)"
  echo
  echo '```sh'
  echo "$clip_cmd"
  echo '```'
  echo
  echo '```'
  echo "${clip_out:-(no output)}"
  echo '```'
  echo
  echo "### LL-HLS: 1,000 blocked playlist requests for 30 s"
  echo
  echo '```sh'
  echo "$llhls_cmd"
  echo '```'
  echo
  echo '```'
  echo "${llhls_out:-(no output)}"
  echo '```'
  echo
  echo "### Long windows through the origin, with nginx serving the same bytes (BenchmarkLongWindow)"
  echo
  echo '```sh'
  echo "$longwin_cmd   # DAYS in: $long_days (BENCH_LONG_DAYS, \"14 30\" by default)"
  echo '```'
  echo
  echo '```'
  if want longwindow; then
    for d in $long_days; do
      echo "# $d days of archive (go test exit ${longwin_rc[$d]})"
      echo "${longwin_out[$d]:-(no output)}"
    done
  else
    echo "(not run: BENCH_SECTIONS)"
  fi
  echo '```'
  echo
  echo "### Harvest (synthetic ~3 Mbps two-track archive, 2 s segments; local folder vs cp -r, versitygw vs aws s3 cp)"
  echo
  echo '```sh'
  echo "$harvest_cmd   # BENCH_HARVEST_HOURS=\"1 24\" adds 24 h (~70 GB of disk)"
  echo '```'
  echo
  echo '```'
  echo "${harvest_out:-(no output)}"
  echo '```'
  echo
  echo "### Demo channel: idle Rewind with the demo channel (default) vs --demo=false, ${seconds} s"
  echo
  echo '```sh'
  echo "$demo_cmd"
  echo '```'
  echo
  echo '```'
  echo "${demo_out:-(no output)}"
  echo '```'
  echo
  echo "### Ingest: HTTP push (HLS/TS) against RTSP publish, CPU per stream-minute, ${seconds} s"
  echo
  echo '```sh'
  echo "$push_cmd"
  echo '```'
  echo
  echo '```'
  echo "${push_out:-(no output)}"
  echo '```'
} >"$gen"

# Keep the hand-written part (everything before "## Results"), replace the rest.
mkdir -p "$(dirname "$out")"
tmp=$work/out.md
if [ -f "$out" ]; then awk '/^## Results$/{exit} {print}' "$out" >"$tmp"; else printf '# Benchmarks\n\n' >"$tmp"; fi
cat "$gen" >>"$tmp"
cp "$tmp" "$out"
log "wrote $out"
cat "$gen"
echo
cat "$t16"
