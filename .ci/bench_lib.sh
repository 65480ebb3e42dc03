# Shared by the bench scripts (sourced, not run): bench_init NAME makes the
# temp dir $work (rewind-bench-NAME.*), the list $pids of started processes
# and the EXIT trap that stops each of them by pid (TERM, KILL after 5 s)
# and removes $work; cpu_ticks PID is a process's utime+stime in clock
# ticks ($clk_tck a second).

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
