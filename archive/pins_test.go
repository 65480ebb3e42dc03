package archive_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
)

// TestPinKeepsRangeAcrossRestart: a pinned range survives retention, also
// after the store is reopened, and is pruned once unpinned.
func TestPinKeepsRangeAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	const other = "live/other"
	mod := func(c *archive.Config) {
		c.Retention = 5 * time.Minute
		c.LogRollInterval = time.Minute
	}
	s := openStore(t, dir, mod)
	for _, channel := range []string{ch, other} {
		w, err := s.OpenWriter(channel)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.StartSession(tracks(1)); err != nil {
			t.Fatal(err)
		}
		for i := range 300 { // 10 minutes
			writeSegment(t, w, 0, videoTS, t0.Add(time.Duration(i)*segDur), segDur, 1)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Pin minutes 2..3 of ch.
	id, err := s.Pin(ch, t0.Add(2*time.Minute), t0.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, mod)
	pins, err := s.Pins()
	if err != nil || len(pins) != 1 || pins[0].ID != id || pins[0].Channel != ch ||
		!pins[0].From.Equal(t0.Add(2*time.Minute)) || !pins[0].To.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("pins after reopen: %+v, %v", pins, err)
	}

	now := t0.Add(20 * time.Minute) // everything is past the 5 min window
	if _, err := s.Prune(now); err != nil {
		t.Fatal(err)
	}
	got := mustSegments(t, s, ch, "video", t0, now, 0)
	if len(got) != 240 || !got[0].Start().Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("pinned channel kept %d segments from %v, want 240 from minute 2", len(got), got[0].Start())
	}
	// Bytes are readable (the log file was not unlinked).
	sec, err := s.OpenSegment(t.Context(), ch, "video", got[0].DecodeTime)
	if err != nil {
		t.Fatal(err)
	}
	if b := readSection(t, sec); int64(len(b)) != got[0].Size {
		t.Fatalf("read %d bytes, want %d", len(b), got[0].Size)
	}
	if n := len(mustSegments(t, s, other, "video", t0, now, 0)); n != 0 {
		t.Fatalf("unpinned channel kept %d segments", n)
	}

	if err := s.Unpin(id); err != nil {
		t.Fatal(err)
	}
	if err := s.Unpin(id); err != nil { // idempotent
		t.Fatal(err)
	}
	if _, err := s.Prune(now); err != nil {
		t.Fatal(err)
	}
	if n := len(mustSegments(t, s, ch, "video", t0, now, 0)); n != 0 {
		t.Fatalf("%d segments left after unpin", n)
	}
	if files := dirFiles(t, filepath.Join(dir, "media", "")); sumSizes(files) != 0 {
		t.Fatalf("logs left after unpin: %v", files)
	}
}

func TestPinRejectsBadRange(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	if _, err := s.Pin(ch, t0, t0.Add(-time.Second)); err == nil {
		t.Fatal("pin with end before start accepted")
	}
	if _, err := s.Pin("", t0, t0); err == nil {
		t.Fatal("pin without channel accepted")
	}
}
