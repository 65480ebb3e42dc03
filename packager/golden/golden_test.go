package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCheck: equal bytes pass (a CRLF file equals LF output), other bytes
// fail, update writes the file.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	check(t, "a.txt", []byte("x\ny\n"), true)
	if b, err := os.ReadFile(filepath.Join("testdata", "golden_a.txt")); err != nil || string(b) != "x\ny\n" {
		t.Fatalf("update wrote %q, %v", b, err)
	}
	check(t, "a.txt", []byte("x\ny\n"), false)
	if err := os.WriteFile(filepath.Join("testdata", "golden_a.txt"), []byte("x\r\ny\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check(t, "a.txt", []byte("x\ny\n"), false)
	var ft fakeT
	check(&ft, "a.txt", []byte("x\nz\n"), false)
	if !ft.failed {
		t.Error("different bytes did not fail")
	}
}

// fakeT records a failure instead of failing the test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true }
func (f *fakeT) Fatal(...any)          { f.failed = true }
