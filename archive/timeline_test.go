package archive_test

import (
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
)

// timelineTracks are the tracks of session i: the video timescale changes
// between sessions (10 MHz gives starts with sub-µs parts).
func timelineTracks(i int) []media.TrackInfo {
	ts := tracks(1)
	ts[0].Timescale = [...]uint32{90000, 10_000_000, 90000, 30000}[i%4]
	return ts
}

// writeTimelineSegment writes one segment of track k at start (one chunk)
// and ends it; audio segments (k 1) have a mid lag of -300 to 300 ticks.
func writeTimelineSegment(w *archive.Writer, k int, ts uint32, start time.Time, dur time.Duration) error {
	dt := media.TimeToTicks(start, ts)
	d := segChunk(k, start, 0)
	if err := w.WriteChunk(media.Chunk{
		Track: k, Data: d, DecodeTime: dt, Duration: 1, SegmentStart: true, Independent: true, KeyFrameEnd: keyFrameEnd(d),
	}); err != nil {
		return err
	}
	e := media.SegmentEnd{Track: k, DecodeTime: dt, Duration: uint64(dur) * uint64(ts) / uint64(time.Second)}
	if k == 1 {
		e.MidLag = int16(start.UnixMilli()%601 - 300)
	}
	return w.EndSegment(e)
}

// fillTimeline writes sessions of n segments of 1-3 s on both tracks from
// at, with a discontinuity and an outage between sessions (none, 7 s:
// gap segments, 0.3 s); it returns where the last segment ends.
func fillTimeline(t *testing.T, s *archive.Store, rng *rand.Rand, at time.Time, sessions, n int) time.Time {
	t.Helper()
	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := range sessions {
		info := timelineTracks(i)
		if err := w.StartSession(info); err != nil {
			t.Fatal(err)
		}
		for range n {
			dur := time.Second + time.Duration(rng.IntN(2000))*time.Millisecond
			for k := range info {
				if err := writeTimelineSegment(w, k, info[k].Timescale, at, dur); err != nil {
					t.Fatal(err)
				}
			}
			at = at.Add(dur)
		}
		at = at.Add([...]time.Duration{0, 7 * time.Second, 300 * time.Millisecond}[i%3])
	}
	return at
}

// checkTimeline compares Segments with a scan of the index over random
// windows (long ones, served by the timeline once loaded, and short ones),
// with and without limits, on both tracks.
func checkTimeline(t *testing.T, s *archive.Store, rng *rand.Rand, what string, first, end time.Time) {
	t.Helper()
	span := int64(end.Sub(first) + 10*time.Minute)
	for i := range 400 {
		from := first.Add(-5*time.Minute + time.Duration(rng.Int64N(span)))
		length := time.Duration(rng.Int64N(int64(2 * time.Minute)))
		if i%2 == 0 {
			length = time.Hour + time.Duration(rng.Int64N(span))
		}
		limit := 0
		if i%3 == 0 {
			limit = 1 + rng.IntN(100)
		}
		for _, track := range []string{"video", "audio"} {
			got := mustSegments(t, s, ch, track, from, from.Add(length), limit)
			want, err := archive.ScanSegments(s, ch, track, from, from.Add(length), limit)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %s [%s, +%s) limit %d: %d segments, the index scan %d (first difference at %d)",
					what, track, from.Format(time.RFC3339Nano), length, limit, len(got), len(want), firstDiff(got, want))
			}
		}
	}
	// Exact boundaries: a window starting or ending at a segment's start.
	all, err := archive.ScanSegments(s, ch, "video", first.Add(-time.Hour), end.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		a, b := all[rng.IntN(len(all))].Start(), all[rng.IntN(len(all))].Start()
		for _, w := range [][2]time.Time{{a, b.Add(2 * time.Hour)}, {a.Add(-2 * time.Hour), b}, {a.Add(time.Nanosecond), b.Add(time.Hour)}} {
			got := mustSegments(t, s, ch, "video", w[0], w[1], 0)
			want, _ := archive.ScanSegments(s, ch, "video", w[0], w[1], 0)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: video [%s, %s): %d segments, the index scan %d", what, w[0], w[1], len(got), len(want))
			}
		}
	}
}

func firstDiff(a, b []media.Segment) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestTimelineMatchesIndex: once a long window loaded a track's timeline,
// Segments returns exactly what the index scan returns, for any window,
// across sessions (discontinuities, timescale changes, gap numbering),
// after retention deleted the oldest segments, after the writer appended
// more, and after it was dropped for being idle and loaded again.
func TestTimelineMatchesIndex(t *testing.T) {
	s := openStore(t, t.TempDir(), func(c *archive.Config) {
		c.Retention = time.Hour
		c.LogRollInterval = 10 * time.Minute
	})
	rng := rand.New(rand.NewPCG(16, 5))
	end := fillTimeline(t, s, rng, t0, 4, 700)
	all, err := archive.ScanSegments(s, ch, "video", t0, end, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := archive.TimelineLen(s, ch, "video"); n != -1 {
		t.Fatalf("timeline of %d segments before any long window", n)
	}
	// A short window does not load it.
	mustSegments(t, s, ch, "video", t0, t0.Add(time.Minute), 0)
	if n := archive.TimelineLen(s, ch, "video"); n != -1 {
		t.Fatalf("timeline of %d segments after a short window", n)
	}
	if got := mustSegments(t, s, ch, "video", t0, end, 0); !reflect.DeepEqual(got, all) {
		t.Fatalf("whole track: %d segments, the index scan %d", len(got), len(all))
	}
	if n := archive.TimelineLen(s, ch, "video"); n != len(all) {
		t.Fatalf("timeline of %d segments, the track has %d", n, len(all))
	}
	mustSegments(t, s, ch, "audio", t0, end, 0)
	checkTimeline(t, s, rng, "loaded", t0, end)

	// Retention: segments that ended an hour before end go.
	removed, err := s.Prune(end)
	if err != nil {
		t.Fatal(err)
	}
	left, err := archive.ScanSegments(s, ch, "video", t0, end, 0)
	if err != nil {
		t.Fatal(err)
	}
	if removed == 0 || len(left) == 0 || len(left) == len(all) {
		t.Fatalf("prune removed %d segments, %d of %d video segments left: the test needs some of each", removed, len(left), len(all))
	}
	if n := archive.TimelineLen(s, ch, "video"); n != len(left) {
		t.Fatalf("after prune: timeline of %d segments, the track has %d", n, len(left))
	}
	checkTimeline(t, s, rng, "pruned", t0, end)

	// The writer appends a session more.
	end = fillTimeline(t, s, rng, end.Add(5*time.Second), 1, 300)
	left, err = archive.ScanSegments(s, ch, "video", t0, end, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := archive.TimelineLen(s, ch, "video"); n != len(left) {
		t.Fatalf("after appending: timeline of %d segments, the track has %d", n, len(left))
	}
	checkTimeline(t, s, rng, "appended", t0, end)

	// Not read for more than TimelineIdlePasses retention passes: dropped,
	// and loaded again by the next long window.
	archive.DropIdleTimelines(s, archive.TimelineIdlePasses)
	if n := archive.TimelineLen(s, ch, "video"); n != len(left) {
		t.Fatalf("after %d idle passes: timeline of %d segments, the track has %d", archive.TimelineIdlePasses, n, len(left))
	}
	archive.DropIdleTimelines(s, 1)
	if n := archive.TimelineLen(s, ch, "video"); n != -1 {
		t.Fatalf("after %d idle passes: timeline of %d segments, want none", archive.TimelineIdlePasses+1, n)
	}
	checkTimeline(t, s, rng, "reloaded", t0, end)
	if n := archive.TimelineLen(s, ch, "video"); n != len(left) {
		t.Fatalf("reloaded: timeline of %d segments, the track has %d", n, len(left))
	}

	// Unknown track or channel: empty, as the scan says.
	if got := mustSegments(t, s, ch, "nope", t0, end, 0); len(got) != 0 || got == nil {
		t.Errorf("unknown track: %v", got)
	}
	if got := mustSegments(t, s, "live/nope", "video", t0, end, 0); len(got) != 0 || got == nil {
		t.Errorf("unknown channel: %v", got)
	}
}

// TestTimelineConcurrentWriter: long windows asked while the writer
// appends and retention prunes (the first of them loads the timeline
// meanwhile) each return a consistent view of the index: ascending,
// nothing missing between their first and last segment, everything the
// index held before the request, segments equal to the index's; at the
// end the timeline holds exactly the track's segments. Run with -race.
func TestTimelineConcurrentWriter(t *testing.T) {
	s := openStore(t, t.TempDir(), func(c *archive.Config) {
		c.Retention = 30 * time.Minute
		c.LogRollInterval = 5 * time.Minute
	})
	rng := rand.New(rand.NewPCG(16, 6))
	at := fillTimeline(t, s, rng, t0, 1, 1000)
	from, to := t0.Add(-time.Hour), t0.Add(48*time.Hour)
	scan := func() []media.Segment {
		segs, err := archive.ScanSegments(s, ch, "video", from, to, 0)
		if err != nil {
			t.Error(err)
		}
		return segs
	}

	var (
		wg      sync.WaitGroup
		written = make(chan struct{})
		head    atomic.Int64 // the writer's last segment end, ns
	)
	head.Store(at.UnixNano())
	wg.Go(func() { // the writer
		defer close(written)
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Error(err)
			return
		}
		defer w.Close()
		info := timelineTracks(1)
		if err := w.StartSession(info); err != nil {
			t.Error(err)
			return
		}
		at := at
		for range 600 {
			if err := writeTimelineSegment(w, 0, info[0].Timescale, at, 2*time.Second); err != nil {
				t.Error(err)
				return
			}
			at = at.Add(2 * time.Second)
			head.Store(at.UnixNano())
		}
	})
	wg.Go(func() { // retention
		repeat(written, func() bool {
			if _, err := s.Prune(time.Unix(0, head.Load())); err != nil {
				t.Error(err)
				return false
			}
			time.Sleep(time.Millisecond)
			return true
		})
	})
	var reads atomic.Int64
	for range 2 {
		wg.Go(func() { // a reader
			repeat(written, func() bool {
				// The guarantee: a read sees every segment whose
				// EndSegment returned before it began (not every one
				// the index holds: the index commits first).
				returned := time.Unix(0, head.Load())
				got, err := s.Segments(ch, "video", from, to, 0)
				if err != nil {
					t.Error(err)
					return false
				}
				if msg := consistent(returned, got, scan()); msg != "" {
					t.Error(msg)
					return false
				}
				reads.Add(1)
				return true
			})
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if reads.Load() == 0 {
		t.Fatal("no read while the writer wrote")
	}
	final := scan()
	if n := archive.TimelineLen(s, ch, "video"); n != len(final) {
		t.Fatalf("timeline of %d segments, the track has %d", n, len(final))
	}
	if got := mustSegments(t, s, ch, "video", from, to, 0); !reflect.DeepEqual(got, final) {
		t.Fatalf("%d segments, the index scan %d", len(got), len(final))
	}
}

// repeat calls f until done is closed or f returns false.
func repeat(done <-chan struct{}, f func() bool) {
	for {
		select {
		case <-done:
			return
		default:
		}
		if !f() {
			return
		}
	}
}

// consistent checks a window read while the index changed (appends at
// the end, deletes at the front) against the end of the last segment
// whose EndSegment returned before the read and a scan after it.
func consistent(returned time.Time, got, after []media.Segment) string {
	if len(got) == 0 || got[len(got)-1].End().Before(returned) {
		return "the read misses segments whose EndSegment returned before it"
	}
	idx := map[uint64]media.Segment{}
	for _, sg := range after {
		idx[sg.DecodeTime] = sg
	}
	for i, sg := range got {
		if i > 0 && (!got[i-1].Start().Before(sg.Start()) || got[i-1].Seq >= sg.Seq) {
			return "the read is not ascending"
		}
		a, ok := idx[sg.DecodeTime]
		switch {
		case ok && a != sg:
			return "a segment differs from the index's"
		case !ok && (len(after) == 0 || !sg.Start().Before(after[0].Start())):
			return "the read has a segment the index never had"
		}
	}
	if len(got) == 0 {
		return ""
	}
	n := 0
	for _, sg := range after {
		if !sg.Start().Before(got[0].Start()) && !sg.Start().After(got[len(got)-1].Start()) {
			n++
		}
	}
	inRange := 0
	for _, sg := range got {
		if _, ok := idx[sg.DecodeTime]; ok {
			inRange++
		}
	}
	if n != inRange {
		return "the read misses segments between its first and last"
	}
	return ""
}
