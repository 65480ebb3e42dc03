package archive

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestLogHandlesBound: at most logHandlesMax logs stay open; the least
// recently used goes first, and a handle in use when it goes is closed at
// its last release, not before.
func TestLogHandlesBound(t *testing.T) {
	dir := t.TempDir()
	path := func(i int) string { return filepath.Join(dir, strconv.Itoa(i)) }
	for i := range logHandlesMax + 2 {
		if err := os.WriteFile(path(i), []byte("log"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var c logHandles
	defer c.close()
	held, err := c.acquire(path(0))
	if err != nil {
		t.Fatal(err)
	}
	var second *logHandle
	for i := 1; i < logHandlesMax+2; i++ {
		h, err := c.acquire(path(i))
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			second = h
		}
		c.release(h)
	}
	if n := c.open(); n != logHandlesMax {
		t.Fatalf("%d logs open, want %d", n, logHandlesMax)
	}
	b := make([]byte, 3)
	if _, err := held.f.ReadAt(b, 0); err != nil {
		t.Fatalf("a handle in use was closed when it left the cache: %v", err)
	}
	c.release(held)
	for _, h := range []*logHandle{held, second} {
		if _, err := h.f.ReadAt(b, 0); !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s: evicted and released, read: %v, want closed", h.path, err)
		}
	}
	again, err := c.acquire(path(logHandlesMax + 1))
	if err != nil {
		t.Fatal(err)
	}
	if h2, _ := c.acquire(path(logHandlesMax + 1)); h2 != again {
		t.Error("two handles of one log")
	} else {
		c.release(h2)
	}
	c.forget(again.path)
	if _, err := again.f.ReadAt(b, 0); err != nil {
		t.Fatalf("forgotten while in use: %v", err)
	}
	c.release(again)
	if _, err := again.f.ReadAt(b, 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("forgotten and released, read: %v, want closed", err)
	}
}
