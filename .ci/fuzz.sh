#!/usr/bin/env bash
# Runs every fuzz target of the repository (func FuzzXxx in a _test.go file)
# for FUZZTIME each (default 3s): go test accepts one -fuzz target per
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
  if ! ${GO:-go} test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$dir" >"$log" 2>&1; then
    cat "$log"
    status=1
  fi
done < <(git grep --untracked -E -o '^func Fuzz[A-Za-z0-9_]+' -- '*_test.go' | sed 's/func //' | sort)
exit $status
