// Package golden compares what a test rendered with a golden file under
// the test's testdata folder, or rewrites the file when the test binary
// runs with -update: one helper for every package whose output a player
// sees (manifests of packager/hls, packager/dash and origin). It imports
// only the standard library and is for tests only.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is the -update flag of every test binary that imports golden.
var update = flag.Bool("update", false, "rewrite testdata/golden_* files")

// Check compares got with testdata/golden_<name> (CRLF line endings in
// the file are read as LF), or writes got there when the test runs with
// -update. A missing file fails the test with a hint to run -update.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	check(t, name, got, *update)
}

func check(t testing.TB, name string, got []byte, update bool) {
	t.Helper()
	path := filepath.Join("testdata", "golden_"+name)
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, bytes.ReplaceAll(want, []byte("\r\n"), []byte("\n"))) {
		t.Errorf("%s differs from golden file; got:\n%s", path, got)
	}
}
