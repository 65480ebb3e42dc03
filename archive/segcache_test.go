package archive_test

import (
	"errors"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
)

// TestOpenSegmentCacheForgetsPruned: segments opened (so remembered by the
// segment cache) and then pruned are not found any more, also when their
// log survives because it still holds newer segments; the survivors still
// open, with the same bytes.
func TestOpenSegmentCacheForgetsPruned(t *testing.T) {
	s, all := tenLogs(t, t.TempDir())
	first := map[uint64]archive.Section{}
	for range 2 { // the second round is served from the cache
		for _, seg := range all {
			sec, err := s.OpenSegment(t.Context(), ch, "video", seg.DecodeTime)
			if err != nil {
				t.Fatalf("segment %d: %v", seg.Seq, err)
			}
			sec.File.Close()
			if old, ok := first[seg.DecodeTime]; ok && (old.Offset != sec.Offset || old.Size != sec.Size || old.Segment != sec.Segment) {
				t.Fatalf("segment %d: cached %+v, indexed %+v", seg.Seq, sec, old)
			}
			first[seg.DecodeTime] = *sec
		}
	}
	// The cutoff, 5.5 minutes back, falls inside the log of minute 5: that
	// log stays for its newer segments.
	if _, err := s.Prune(t0.Add(10*time.Minute + 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	left := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0)
	if len(left) == 0 || len(left) >= 300 || left[0].Seq%30 == 0 {
		t.Fatalf("%d segments left, first %d: the cutoff should fall inside a log", len(left), left[0].Seq)
	}
	for _, seg := range all {
		sec, err := s.OpenSegment(t.Context(), ch, "video", seg.DecodeTime)
		if seg.Seq < left[0].Seq {
			if !errors.Is(err, archive.ErrNotFound) {
				t.Fatalf("pruned segment %d: %v, want ErrNotFound", seg.Seq, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("surviving segment %d: %v", seg.Seq, err)
		}
		sec.File.Close()
	}
}

// tenLogs opens a store in dir with a 5-minute retention and writes 300
// segments of 2 s of one track, minutes 0-10: a log per minute; it returns
// the store and the segments.
func tenLogs(t *testing.T, dir string) (*archive.Store, []media.Segment) {
	t.Helper()
	s := openStore(t, dir, func(c *archive.Config) {
		c.Retention = 5 * time.Minute
		c.LogRollInterval = time.Minute
	})
	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(tracks(1)); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		writeSegment(t, w, 0, videoTS, t0.Add(time.Duration(i)*segDur), segDur, 1)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	all := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0)
	if len(all) != 300 {
		t.Fatalf("%d segments, want 300", len(all))
	}
	return s, all
}
