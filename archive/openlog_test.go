package archive

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := openLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(3, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4))
	if err != nil || string(b) != "3456" {
		t.Fatalf("read %q, %v; want \"3456\"", b, err)
	}
	if _, err := f.Write([]byte("x")); err == nil {
		t.Error("a log opened for reading accepted a write")
	}

	_, err = openLog(filepath.Join(dir, "missing"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing log: %v, want os.ErrNotExist", err)
	}
}
