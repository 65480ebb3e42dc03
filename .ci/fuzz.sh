#!/usr/bin/env bash
# Runs every fuzz target of the repository (func FuzzXxx in a _test.go file)
# for FUZZTIME each (default 3s; FUZZMINIMIZETIME, default 100x, bounds the
# minimization of each new input): go test accepts one -fuzz target per
# invocation. Crashers are written to the package's testdata/fuzz/FuzzXxx/,
# where they stay as regression cases once fixed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime=${FUZZTIME:-3s}
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while IFS=: read -r file name; do
  dir=./$(dirname "$file")
  echo "fuzz $dir $name ($fuzztime)"
  # A new input found is minimized for at most 100 runs (default: 60 s,
  # which can outlast the whole fuzz time on a busy machine).
  if ! ${GO:-go} test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "${FUZZMINIMIZETIME:-100x}" "$dir" >"$log" 2>&1; then
    cat "$log"
    status=1
  fi
done < <(git grep --untracked -E -o '^func Fuzz[A-Za-z0-9_]+' -- '*_test.go' | sed 's/func //' | sort)
exit $status
