# Shared by the bench scripts (sourced, not run): bench_init NAME makes the
# temp dir $work (rewind-bench-NAME.*), the list $pids of started processes
# and the EXIT trap that stops each of them by pid (TERM, KILL after 5 s)
# and removes $work; cpu_ticks PID is a process's utime+stime in clock
# ticks ($clk_tck a second); bench_source [FILE] sets $src to FILE, or to a
# 20 s 720p30 3 Mbps H.264 + AAC MP4 it encodes once into $work (the one
# source of the ingest benches, copied by every publisher).

bench_init() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/rewind-bench-$1.XXXXXX")
  pids=()
  clk_tck=$(getconf CLK_TCK)
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
  exit "$rc"
}

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

bench_source() {
  src=$1
  if [ -z "$src" ]; then
    src=$work/src.mp4
    ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30 \
      -f lavfi -i sine=frequency=1000:sample_rate=48000 -t 20 -c:v libx264 -preset veryfast \
      -b:v 3M -maxrate 3M -bufsize 3M -g 60 -pix_fmt yuv420p -c:a aac -b:a 128k -f mp4 "$src"
  fi
}
