package archive_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
)

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	const keepAll = "live/keep"
	s := openStore(t, dir, func(c *archive.Config) {
		c.Retention = 5 * time.Minute
		c.LogRollInterval = time.Minute
		c.RetentionFor = func(channel string) time.Duration {
			if channel == keepAll {
				return 24 * time.Hour
			}
			return 0
		}
	})
	record := func(channel string) {
		w, err := s.OpenWriter(channel)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		// Session 1: minutes 0-6; session 2: minutes 6-10.
		if err := w.StartSession(tracks(1)); err != nil {
			t.Fatal(err)
		}
		for i := range 180 {
			writeSegment(t, w, 0, videoTS, t0.Add(time.Duration(i)*segDur), segDur, 1)
		}
		if err := w.StartSession(tracks(2)); err != nil {
			t.Fatal(err)
		}
		for i := 180; i < 300; i++ {
			writeSegment(t, w, 0, videoTS, t0.Add(time.Duration(i)*segDur), segDur, 1)
		}
	}
	record(ch)
	record(keepAll)
	media := filepath.Join(dir, "media")
	filesBefore := dirFiles(t, media)
	if len(filesBefore) != 20 {
		t.Fatalf("%d logs, want 10 per channel (rolled each minute)", len(filesBefore))
	}

	now := t0.Add(10 * time.Minute)
	cutoff := now.Add(-5 * time.Minute)
	removed, err := s.Prune(now)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 150 {
		t.Fatalf("removed %d segments, want 150", removed)
	}
	left := mustSegments(t, s, ch, "video", time.Time{}.Add(time.Nanosecond), now, 0)
	if len(left) != 150 || left[0].End().Before(cutoff.Add(time.Nanosecond)) || left[0].Seq != 150 {
		t.Fatalf("%d segments left, first %+v", len(left), left[0])
	}
	if got := mustSegments(t, s, keepAll, "video", t0, now, 0); len(got) != 300 {
		t.Fatalf("channel with a longer window lost segments: %d", len(got))
	}
	filesAfter := dirFiles(t, media)
	if len(filesAfter) != 15 {
		t.Fatalf("%d logs after prune, want 15 (5 of %s unlinked)", len(filesAfter), ch)
	}
	if st := s.Stats(); st.Bytes != sumSizes(filesAfter) {
		t.Fatalf("stats bytes %d, files %d", st.Bytes, sumSizes(filesAfter))
	}
	for _, seg := range left {
		sec, err := s.OpenSegment(t.Context(), ch, "video", seg.DecodeTime)
		if err != nil {
			t.Fatalf("surviving segment %d: %v", seg.Seq, err)
		}
		sec.File.Close()
	}
	// Init version 1 is still used by minutes 5-6.
	if _, err := s.Init(ch, "video", 1); err != nil {
		t.Fatalf("init v1 pruned while in use: %v", err)
	}
	// Prune is idempotent.
	if n, err := s.Prune(now); err != nil || n != 0 {
		t.Fatalf("second prune: %d %v", n, err)
	}

	// Later, session 1 leaves the window: its init goes, the current stays.
	now = t0.Add(11*time.Minute + 30*time.Second)
	if _, err := s.Prune(now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Init(ch, "video", 1); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("unused init v1 kept: %v", err)
	}
	if _, err := s.Init(ch, "video", 2); err != nil {
		t.Fatal(err)
	}
	// Everything leaves the window: the sequence survives in the track state.
	if _, err := s.Prune(t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0); len(got) != 0 {
		t.Fatalf("segments left: %d", len(got))
	}
	if _, err := s.Init(ch, "video", 2); err != nil {
		t.Fatalf("current init pruned: %v", err)
	}
	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.StartSession(tracks(3)); err != nil {
		t.Fatal(err)
	}
	writeSegment(t, w, 0, videoTS, t0.Add(2*time.Hour), segDur, 1)
	if got := mustSegments(t, s, ch, "video", t0, t0.Add(3*time.Hour), 0); len(got) != 1 || got[0].Seq != 3600 || got[0].DiscSeq != 2 {
		// 300 segments, then a 110 min outage: 3,300 gap numbers (2 s each).
		t.Fatalf("after full prune: %+v", got)
	}
}

func TestPruneKeepsOpenLog(t *testing.T) {
	runArchiveTest(t, func(c *archive.Config) { c.Retention = time.Minute }, func(t *testing.T, s *archive.Store) {
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.StartSession(tracks(1)[:1]); err != nil {
			t.Fatal(err)
		}
		writeSegment(t, w, 0, videoTS, t0, segDur, 1)
		if n, err := s.Prune(t0.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("prune: %d %v", n, err)
		}
		// The writer still appends to its log, which must still exist.
		writeSegment(t, w, 0, videoTS, t0.Add(time.Hour), segDur, 1)
		got := mustSegments(t, s, ch, "video", t0, t0.Add(2*time.Hour), 0)
		if len(got) != 1 {
			t.Fatalf("segments: %+v", got)
		}
		sec, err := s.OpenSegment(t.Context(), ch, "video", got[0].DecodeTime)
		if err != nil {
			t.Fatal(err)
		}
		if b := readSection(t, sec); len(b) != int(got[0].Size) {
			t.Fatalf("read %d bytes", len(b))
		}
	})
}

func TestPrunerGoroutine(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, func(c *archive.Config) {
		c.Retention = time.Minute
		c.PruneInterval = 10 * time.Millisecond
	})
	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(tracks(1)[:1]); err != nil {
		t.Fatal(err)
	}
	writeSegment(t, w, 0, videoTS, t0, segDur, 1) // long before time.Now()
	w.Close()
	// The pruner deletes the index records first, then unlinks the log:
	// wait for both.
	deadline := time.Now().Add(5 * time.Second)
	for len(mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("pruner did not run")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for len(dirFiles(t, filepath.Join(dir, "media"))) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("log not unlinked")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
